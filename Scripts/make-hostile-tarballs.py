#!/usr/bin/env python3
"""Writes the hostile layer fixtures in Tests/Fixtures/Tarballs (committed; rerun to regenerate).
Each is named for the attack it makes; LayerExtractorTests expects every one to be refused."""
import io, os, tarfile

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures", "Tarballs")

def entry(name, kind=tarfile.REGTYPE, data=b"", target="", mode=0o644, devmajor=0, devminor=0):
    info = tarfile.TarInfo(name)
    info.type, info.mode, info.mtime, info.linkname = kind, mode, 0, target
    info.devmajor, info.devminor = devmajor, devminor
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (io.BytesIO(data) if kind == tarfile.REGTYPE else None)

def write(name, entries, mode="w", fmt=tarfile.PAX_FORMAT):
    with tarfile.open(os.path.join(OUT, name), mode, format=fmt) as tar:
        for info, data in entries:
            tar.addfile(info, data)

os.makedirs(OUT, exist_ok=True)
write("dotdot.tar", [entry("../slipway-dotdot-escape.txt", data=b"escaped")])
write("dotdot-nested.tar", [entry("a/", tarfile.DIRTYPE, mode=0o755), entry("a/../../slipway-nested-escape.txt", data=b"escaped")])
write("absolute.tar", [entry("/tmp/slipway-absolute-escape.txt", data=b"escaped")])
write("symlink-escape.tar", [entry("evil", tarfile.SYMTYPE, target="/tmp"), entry("evil/slipway-symlink-escape.txt", data=b"escaped")])
write("symlink-relative-escape.tar", [
    entry("up", tarfile.SYMTYPE, target="../../../../../../../../tmp"),
    entry("up/slipway-relative-escape.txt", data=b"escaped")])
write("hardlink-escape.tar", [entry("passwd", tarfile.LNKTYPE, target="../../../../../../etc/passwd")])
write("hardlink-through-symlink.tar", [entry("etc", tarfile.SYMTYPE, target="/etc"), entry("x", tarfile.LNKTYPE, target="etc/passwd")])
write("device.tar", [entry("dev/", tarfile.DIRTYPE, mode=0o755), entry("dev/null", tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)])
write("whiteout-through-symlink.tar", [entry("s", tarfile.SYMTYPE, target="/tmp/slipway-victim-dir"), entry("s/.wh.victim")])
# A decompression bomb: 100 MiB of zeros, about 100 KiB compressed.
write("bomb.tar.gz", [entry("zeros", data=bytes(100 << 20))], mode="w:gz")
# Too many entries.
write("many-entries.tar.gz", [entry(f"f{i:05d}") for i in range(5000)], mode="w:gz")
# Old dialects must still be readable: GNU and ustar.
write("gnu-dialect.tar", [entry("gnu/", tarfile.DIRTYPE, mode=0o755), entry("gnu/" + "long" * 40 + ".txt", data=b"long name")], fmt=tarfile.GNU_FORMAT)
write("ustar-dialect.tar", [entry("ustar.txt", data=b"ustar")], fmt=tarfile.USTAR_FORMAT)
