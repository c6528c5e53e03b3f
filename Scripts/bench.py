#!/usr/bin/env python3
"""`make bench`: Slipway against buildah (and skopeo, gzip, sha256sum) on the same generated
inputs, in one invocation, alternating tools repetition by repetition. Prints a table and writes
bench-results.json (one object per scenario S1..S9). Never part of the tests; release build.

  BENCH_REPS       repetitions (default 5; the RUN-heavy ones, S4, S5 and S8, use at most 3)
  BENCH_SCENARIOS  which to run (default "S1 S2 S3 S4 S5 S6 S7 S8 S9")
"""
import base64, hashlib, json, os, random, shutil, statistics, subprocess, sys, time, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from measurelib import Lab

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPS = int(os.environ.get("BENCH_REPS", "5"))
WANTED = os.environ.get("BENCH_SCENARIOS", "S1 S2 S3 S4 S5 S6 S7 S8 S9").split()
MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.docker.distribution.manifest.list.v2+json"])


def log(text):
    print(text, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, slipway):
        self.slipway = slipway
        self.lab = Lab("slipway-bench.")
        self.work = self.lab.work
        self.registry = None
        self.results = {}

    # -- running and measuring --------------------------------------------------------------

    def run(self, argv, env=None):
        """Runs a set-up command (not timed); stops the bench with its output when it fails."""
        done = subprocess.run(argv, env={**os.environ, **(env or {})}, capture_output=True)
        if done.returncode != 0:
            sys.exit(f"bench: {' '.join(argv)} failed ({done.returncode}):\n{done.stderr.decode(errors='replace')[-3000:]}")
        return done.stdout.decode(errors="replace")

    def timed(self, argv, env=None, shell=False):
        """(wall seconds, peak RSS kB, CPU seconds) of one command, from its own rusage. The
        disk is synced first, so no run waits on the write-back of the run before it (buildah's
        vfs storage leaves hundreds of MB of it)."""
        os.sync()
        start = time.monotonic()
        process = subprocess.Popen(argv, shell=shell, executable="/bin/bash" if shell else None,
                                   env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        stderr = process.stderr.read()
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            sys.exit(f"bench: {argv if shell else ' '.join(argv)} failed ({process.returncode}):\n{stderr.decode(errors='replace')[-3000:]}")
        return wall, usage.ru_maxrss, usage.ru_utime + usage.ru_stime

    def fresh_registry(self):
        """A new registry per cold repetition, so no tool finds blobs an earlier one pushed."""
        if self.registry:
            process = self.registry[1]
            process.terminate()
            process.wait()
            self.lab.processes.remove(process)
            shutil.rmtree(self.registry[2], ignore_errors=True)
        # One port for the whole bench: the base's name (with its port) is recorded in the image,
        # and the digests of repetitions must be comparable.
        self.port = getattr(self, "port", None) or self.lab.free_port()
        port = self.port
        storage = os.path.join(self.work, f"registry-{port}-{time.monotonic_ns()}")
        config = os.path.join(self.work, f"registry-{port}.yml")
        with open(config, "w") as f:
            f.write(f"version: 0.1\nlog: {{level: info, formatter: text}}\n"
                    f"storage: {{filesystem: {{rootdirectory: {storage}}}, delete: {{enabled: true}}}}\n"
                    f"http: {{addr: 127.0.0.1:{port}}}\n")
        logfile = open(storage + ".log", "w")
        process = subprocess.Popen(["docker-registry", "serve", config], stdout=logfile, stderr=logfile)
        self.lab.processes.append(process)
        self.lab.wait_port(port)
        self.registry = (f"127.0.0.1:{port}", process, storage, logfile.name)
        for cache in ["/var/lib/containers/cache/blob-info-cache-v1.boltdb",
                      os.path.expanduser("~/.local/share/containers/cache/blob-info-cache-v1.boltdb")]:
            if os.path.exists(cache):
                os.remove(cache)
        return self.registry[0]

    def uploads(self):
        """Blob uploads the registry has seen so far (POST …/blobs/uploads/ requests, from its log)."""
        with open(self.registry[3]) as f:
            return sum(1 for line in f if "http.request.method=POST" in line and "/blobs/uploads/" in line and "response completed" in line)

    def digest(self, reference):
        registry, rest = reference.split("/", 1)
        repository, tag = rest.rsplit(":", 1)
        request = urllib.request.Request(f"http://{registry}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": MANIFEST_TYPES})
        with urllib.request.urlopen(request) as response:
            return response.headers["Docker-Content-Digest"]

    def seed_base(self, name="busybox"):
        """Copies a prepared base from its OCI layout into the current registry (not timed)."""
        registry = self.registry[0]
        self.run(["skopeo", "copy", "-q", "--dest-tls-verify=false", f"oci:{self.layouts[name]}:{name}", f"docker://{registry}/{name}:1"])
        return f"{registry}/{name}:1"

    # -- the two builders ---------------------------------------------------------------------

    def slipway_build(self, state, context, tag, *flags):
        return self.timed([self.slipway, "build", "-t", tag, *flags, context], env={"SLIPWAY_STATE_DIR": state})

    def buildah_build(self, storage, context, tag, *flags):
        b = f"buildah --storage-driver vfs --root {storage}/root --runroot {storage}/run"
        quoted = " ".join(f"'{flag}'" for flag in flags)
        return self.timed(f"{b} bud --isolation chroot -q --tls-verify=false {quoted} -t localhost/bench:1 '{context}' > /dev/null && "
                          f"{b} push -q --tls-verify=false localhost/bench:1 docker://{tag} > /dev/null", shell=True)

    # -- recording ----------------------------------------------------------------------------

    def record(self, scenario, title, samples, note="", peer="buildah", target=None, extra=None):
        """samples: {tool: [(wall, rss, cpu, digest)]}."""
        entry = {"title": title}
        for tool, runs in samples.items():
            walls = [run[0] for run in runs]
            entry[tool] = {
                "median_s": round(statistics.median(walls), 3), "min_s": round(min(walls), 3), "max_s": round(max(walls), 3),
                "rss_kb": max(run[1] for run in runs), "cpu_s": round(statistics.median(run[2] for run in runs), 3),
                "digests": [run[3] for run in runs]}
        if peer in samples and "slipway" in samples and entry[peer]["median_s"] > 0:
            entry["ratio"] = round(entry["slipway"]["median_s"] / entry[peer]["median_s"], 2)
        entry["peer"] = peer
        if target:
            entry["target"] = target
        if note:
            entry["note"] = note
        entry.update(extra or {})
        self.results[scenario] = entry
        self.print_row(scenario, entry)

    @staticmethod
    def row(scenario, entry):
        s, p = entry.get("slipway", {}), entry.get(entry["peer"], {})
        span = lambda e: f"{e['median_s']:.3f} ({e['min_s']:.2f}–{e['max_s']:.2f})" if e else "–"
        rss = lambda e: f"{e['rss_kb'] // 1024}" if e else "–"
        ratio = f"{entry['ratio']:.2f}" if "ratio" in entry else "–"
        return f"{scenario:<4} {entry['title'][:44]:<44} {span(s):>22} {span(p):>22} {entry['peer']:<9} {ratio:>6} {rss(s):>6} {rss(p):>6}"

    def print_row(self, scenario, entry):
        log(self.row(scenario, entry) + (f"   {entry['note']}" if entry.get("note") else ""))

    # -- inputs -------------------------------------------------------------------------------

    @staticmethod
    def text(generator, size):
        """Text-like bytes (base64 of random data): compresses to about 75 %, like source and assets."""
        return base64.b64encode(generator.randbytes(size * 3 // 4 + 3))[:size]

    def copy_context(self):
        """~50 MB in 455 files (450 of 100 kB, 5 of 1 MB), FROM the base, one COPY."""
        context = os.path.join(self.work, "copy-context")
        generator = random.Random(1)
        os.makedirs(os.path.join(context, "files"))
        for index in range(450):
            with open(os.path.join(context, "files", f"f{index:03}.txt"), "wb") as f:
                f.write(self.text(generator, 100_000))
        for index in range(5):
            with open(os.path.join(context, "files", f"big{index}.bin"), "wb") as f:
                f.write(self.text(generator, 1_000_000))
        with open(os.path.join(context, "Dockerfile"), "w") as f:
            f.write("ARG BASE\nFROM ${BASE}\nCOPY files/ /app/\nCMD [\"ls\", \"/app\"]\n")
        return context

    def dockerfile_context(self, name, dockerfile):
        context = os.path.join(self.work, name)
        os.makedirs(context, exist_ok=True)
        with open(os.path.join(context, "Dockerfile"), "w") as f:
            f.write(dockerfile)
        return context

    def prepare_bases(self, need_debian):
        """The busybox base (Recipes/examples/busybox-base) and, for S8, the tests' Debian bookworm
        base, each built once by Slipway and kept as an OCI layout."""
        self.layouts = {}
        registry = self.fresh_registry()
        context = os.path.join(self.work, "busybox-base")
        shutil.copytree(os.path.join(ROOT, "Recipes/examples/busybox-base"), context)
        shutil.copy("/bin/busybox", os.path.join(context, "busybox"))
        bases = [("busybox", context)]
        if need_debian:
            rootfs = subprocess.run(["bash", os.path.join(ROOT, "Scripts/debian-base.sh")], check=True, capture_output=True, text=True).stdout.strip()
            debian = self.dockerfile_context("debian-base", "FROM scratch\nADD rootfs.tar /\nCMD [\"bash\"]\n")
            shutil.copy(rootfs, os.path.join(debian, "rootfs.tar"))
            bases.append(("debian", debian))
        for name, context in bases:
            self.run([self.slipway, "build", "-t", f"{registry}/{name}:1", context], env={"SLIPWAY_STATE_DIR": os.path.join(self.work, "base-state")})
            self.layouts[name] = os.path.join(self.work, f"layout-{name}")
            self.run(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{registry}/{name}:1", f"oci:{self.layouts[name]}:{name}"])
        shutil.rmtree(os.path.join(self.work, "base-state"))

    # -- scenarios ----------------------------------------------------------------------------

    def cold(self, scenario, title, context, flags=(), reps=None, base="busybox", target=None, tag="app"):
        """Build + push from nothing: fresh state or storage and a fresh registry holding only the base."""
        samples = {"slipway": [], "buildah": []}
        for rep in range(reps or REPS):
            for tool in ("slipway", "buildah"):
                self.fresh_registry()
                base_reference = self.seed_base(base)
                reference = f"{self.registry[0]}/{tag}:{rep}"
                state = os.path.join(self.work, f"cold-{tool}")
                arguments = ["--build-arg", f"BASE={base_reference}", *flags]
                if tool == "slipway":
                    wall, rss, cpu = self.slipway_build(state, context, reference, *arguments)
                else:
                    wall, rss, cpu = self.buildah_build(state, context, reference, *arguments, *(["--jobs=2"] if scenario in ("S5", "S9") else []))
                samples[tool].append((wall, rss, cpu, self.digest(reference)))
                shutil.rmtree(state, ignore_errors=True)
        self.record(scenario, title, samples, target=target)
        return samples

    def s1_s2_s3(self):
        context = self.copy_context()
        if "S1" in WANTED:
            samples = self.cold("S1", "cold COPY build+push, 50 MB / 455 files", context, target="<= 0.8 s and <= 0.5x buildah")
            self.require_same("S1", samples["slipway"])
        if not {"S2", "S3"} & set(WANTED):
            return
        # Warm: each tool keeps its state or storage (buildah with --layers) and one registry.
        s2 = {"slipway": [], "buildah": []}
        s3 = {"slipway": [], "buildah": []}
        self.fresh_registry()
        base_reference = self.seed_base()
        arguments = {"slipway": ["--build-arg", f"BASE={base_reference}"], "buildah": ["--layers", "--build-arg", f"BASE={base_reference}"]}
        build = {"slipway": self.slipway_build, "buildah": self.buildah_build}
        for tool in ("slipway", "buildah"):
            build[tool](os.path.join(self.work, f"warm-{tool}"), context, f"{self.registry[0]}/warm-{tool}:1", *arguments[tool])
        uploads = {"slipway": 0, "buildah": 0}
        for rep in range(REPS):
            for tool in ("slipway", "buildah"):
                reference = f"{self.registry[0]}/warm-{tool}:1"
                before = self.uploads()
                wall, rss, cpu = build[tool](os.path.join(self.work, f"warm-{tool}"), context, reference, *arguments[tool])
                uploads[tool] += self.uploads() - before
                s2[tool].append((wall, rss, cpu, self.digest(reference)))
        if "S2" in WANTED:
            self.record("S2", "rebuild+push, nothing changed", s2, target="<= 0.05 s, nothing uploaded",
                        note=f"blob uploads: slipway {uploads['slipway']}, buildah {uploads['buildah']}",
                        extra={"blob_uploads": uploads})
            self.require_same("S2", s2["slipway"])
        if "S3" not in WANTED:
            return
        generator = random.Random(3)
        changed = os.path.join(context, "files", "big2.bin")
        for rep in range(REPS):
            content = self.text(generator, 1_000_000)
            for tool in ("slipway", "buildah"):
                with open(changed, "wb") as f:
                    f.write(content)
                reference = f"{self.registry[0]}/warm-{tool}:1"
                wall, rss, cpu = build[tool](os.path.join(self.work, f"warm-{tool}"), context, reference, *arguments[tool])
                s3[tool].append((wall, rss, cpu, self.digest(reference)))
        # The incremental image must be the image a cold build of the same files makes.
        cold_state = os.path.join(self.work, "s3-cold")
        self.slipway_build(cold_state, context, f"{self.registry[0]}/s3-cold:1", *arguments["slipway"], "--no-cache")
        cold = self.digest(f"{self.registry[0]}/s3-cold:1")
        shutil.rmtree(cold_state)
        same = cold == s3["slipway"][-1][3]
        self.record("S3", "rebuild+push, one 1 MB file changed", s3, target="<= 0.3 s",
                    note="incremental digest = cold digest" if same else f"DIGEST DIFFERS from a cold build ({cold})",
                    extra={"cold_digest": cold, "incremental_equals_cold": same})

    def s4(self):
        context = self.dockerfile_context("run-heavy", "ARG BASE\nFROM ${BASE}\n"
            "RUN mkdir /data && cd /data && i=0 && while [ $i -lt 10000 ]; do echo \"file $i\" > f$i; i=$((i+1)); done\n"
            "RUN cd /data && rm -f f*[02468]\n")
        samples = self.cold("S4", "RUN-heavy: 10,000 files made, half deleted", context, reps=min(REPS, 3), target="no slower than buildah")
        self.require_same("S4", samples["slipway"])

    def multi_stage_context(self):
        return self.dockerfile_context("multi-stage", "ARG BASE\n"
            "FROM ${BASE} AS left\nRUN mkdir /out && dd if=/dev/zero bs=1M count=96 2>/dev/null | md5sum > /out/left.txt && seq 1 1000 | while read i; do echo $i > /out/l$i; done\n"
            "FROM ${BASE} AS right\nRUN mkdir /out && dd if=/dev/zero bs=1M count=96 2>/dev/null | sha1sum > /out/right.txt && seq 1 1000 | while read i; do echo $i > /out/r$i; done\n"
            "FROM ${BASE}\nCOPY --from=left /out/ /left/\nCOPY --from=right /out/ /right/\nCMD [\"ls\", \"/left\", \"/right\"]\n")

    def s5_s9(self):
        context = self.multi_stage_context()
        if "S5" in WANTED:
            samples = self.cold("S5", "multi-stage, two independent stages", context, reps=min(REPS, 3), target="no slower than buildah")
            self.require_same("S5", samples["slipway"])
        if "S9" not in WANTED:
            return
        self.fresh_registry()
        base_reference = self.seed_base()
        arguments = {"slipway": ["--build-arg", f"BASE={base_reference}"], "buildah": ["--layers", "--jobs=2", "--build-arg", f"BASE={base_reference}"]}
        build = {"slipway": self.slipway_build, "buildah": self.buildah_build}
        samples = {"slipway": [], "buildah": []}
        for tool in ("slipway", "buildah"):
            build[tool](os.path.join(self.work, f"s9-{tool}"), context, f"{self.registry[0]}/s9-{tool}:1", *arguments[tool])
        for rep in range(REPS):
            for tool in ("slipway", "buildah"):
                reference = f"{self.registry[0]}/s9-{tool}:1"
                wall, rss, cpu = build[tool](os.path.join(self.work, f"s9-{tool}"), context, reference, *arguments[tool])
                samples[tool].append((wall, rss, cpu, self.digest(reference)))
        self.record("S9", "fully cached multi-stage rebuild+push", samples, target="<= 0.1 s")
        self.require_same("S9", samples["slipway"])

    def s6(self):
        """A 200 MB image (four 50 MB layers) pulled into an empty store; skopeo copies it to an OCI layout."""
        context = os.path.join(self.work, "pull-context")
        generator = random.Random(6)
        lines = ["FROM scratch"]
        for layer in range(4):
            os.makedirs(os.path.join(context, f"part{layer}"))
            for index in range(50):
                with open(os.path.join(context, f"part{layer}", f"f{index:02}.bin"), "wb") as f:
                    f.write(self.text(generator, 1_000_000))
            lines.append(f"COPY part{layer}/ /part{layer}/")
        with open(os.path.join(context, "Dockerfile"), "w") as f:
            f.write("\n".join(lines) + "\n")
        registry = self.fresh_registry()
        reference = f"{registry}/big:1"
        self.run([self.slipway, "build", "-t", reference, context], env={"SLIPWAY_STATE_DIR": os.path.join(self.work, "s6-build")})
        shutil.rmtree(os.path.join(self.work, "s6-build"))
        samples = {"slipway": [], "skopeo": []}
        for rep in range(REPS):
            state, layout = os.path.join(self.work, "s6-state"), os.path.join(self.work, "s6-layout")
            wall, rss, cpu = self.timed([self.slipway, "image", "pull", reference], env={"SLIPWAY_STATE_DIR": state})
            samples["slipway"].append((wall, rss, cpu, self.digest(reference)))
            wall, rss, cpu = self.timed(["skopeo", "copy", "-q", "--src-tls-verify=false", f"docker://{reference}", f"oci:{layout}:x"])
            samples["skopeo"].append((wall, rss, cpu, self.digest(reference)))
            shutil.rmtree(state, ignore_errors=True)
            shutil.rmtree(layout, ignore_errors=True)
        self.record("S6", "pull 200 MB (4 layers) into an empty store", samples, peer="skopeo", target="at least as fast as skopeo")

    def s7(self):
        """The layer writer alone (a cold FROM scratch COPY of the S1 files, not pushed), per core from
        CPU time; the peer is `tar | gzip -6 | sha256sum` (or zstd -3). Then hashing: `slipway digest`
        of a 1 GiB file against sha256sum and OpenSSL's own speed (the machine's ceiling)."""
        source = os.path.join(self.work, "copy-context", "files")
        if not os.path.isdir(source):
            self.copy_context()
        context = self.dockerfile_context("writer-context", "FROM scratch\nCOPY files/ /app/\n")
        if not os.path.exists(os.path.join(context, "files")):
            shutil.copytree(source, os.path.join(context, "files"))
        size = sum(os.path.getsize(os.path.join(context, "files", name)) for name in os.listdir(os.path.join(context, "files")))
        extra = {}
        for compression, tool in (("gzip", "gzip -6"), ("zstd", "zstd -3 -q -c")):
            peer = tool.split()[0]
            samples = {"slipway": [], peer: []}
            for rep in range(REPS):
                state = os.path.join(self.work, "s7-state")
                samples["slipway"].append((*self.timed([self.slipway, "build", "--no-push", "--compression", compression, context],
                                                       env={"SLIPWAY_STATE_DIR": state}), ""))
                shutil.rmtree(state)
                samples[peer].append((*self.timed(f"tar --sort=name -C '{context}' -cf - files | {tool} | sha256sum", shell=True), ""))
            walls = {name: statistics.median(run[0] for run in runs) for name, runs in samples.items()}
            cpus = {name: statistics.median(run[2] for run in runs) for name, runs in samples.items()}
            speeds = {name: {"mb_per_s": round(size / 1e6 / walls[name], 1), "mb_per_s_per_core": round(size / 1e6 / cpus[name], 1)} for name in walls}
            extra[compression] = speeds
            self.record(f"S7-{compression}", f"layer writer, {size / 1e6:.0f} MB tar+hash+{compression}", samples, peer=peer,
                        note=f"slipway {speeds['slipway']['mb_per_s']} MB/s wall, {speeds['slipway']['mb_per_s_per_core']} MB/s per core; "
                             f"`tar | {tool} | sha256sum` {speeds[peer]['mb_per_s_per_core']} MB/s per core")
        blob = os.path.join(self.work, "hash.bin")
        with open(blob, "wb") as f:
            for _ in range(64):
                f.write(os.urandom(16 << 20))
        subprocess.run(["cat", blob], stdout=subprocess.DEVNULL, check=True)
        hashing = {"slipway": [], "sha256sum": []}
        for rep in range(3):
            hashing["slipway"].append((*self.timed([self.slipway, "digest", blob]), ""))
            hashing["sha256sum"].append((*self.timed(["sha256sum", blob]), ""))
        os.remove(blob)
        openssl = subprocess.run("openssl speed -evp sha256 -bytes 16384 -seconds 2 2>/dev/null | awk '/^sha256/ {sub(\"k\",\"\",$NF); print $NF * 1000}'",
                                 shell=True, capture_output=True, text=True).stdout.strip()
        per_core = (1 << 30) / 1e9 / statistics.median(run[2] for run in hashing["slipway"])
        sha_ni = "sha_ni" in open("/proc/cpuinfo").read()
        extra["hash"] = {"slipway_gb_per_s_per_core": round(per_core, 2), "openssl_gb_per_s": round(float(openssl or 0) / 1e9, 2), "sha_ni": sha_ni}
        self.record("S7-hash", "SHA-256 of 1 GiB (slipway digest)", hashing, peer="sha256sum", target=">= 1.4 GB/s per core with SHA-NI",
                    note=f"slipway {per_core:.2f} GB/s per core; openssl speed {extra['hash']['openssl_gb_per_s']} GB/s; sha_ni {'yes' if sha_ni else 'no'}")
        self.results["S7"] = {"title": "layer writer and hashing", "layer": extra, "hash": extra["hash"],
                              "gzip": self.results.pop("S7-gzip"), "zstd": self.results.pop("S7-zstd"), "sha256": self.results.pop("S7-hash")}

    def s8(self):
        context = self.dockerfile_context("apt-context", "ARG BASE\nFROM ${BASE}\n"
            "RUN apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ca-certificates curl && rm -rf /var/lib/apt/lists/*\n")
        reps = min(REPS, 3)
        cold = {"slipway": [], "buildah": []}
        cached = {"slipway": [], "buildah": []}
        for rep in range(reps):
            for tool in ("slipway", "buildah"):
                self.fresh_registry()
                base_reference = self.seed_base("debian")
                reference = f"{self.registry[0]}/apt:{rep}"
                state = os.path.join(self.work, f"s8-{tool}")
                arguments = ["--build-arg", f"BASE={base_reference}"]
                build = self.slipway_build if tool == "slipway" else self.buildah_build
                flags = arguments if tool == "slipway" else ["--layers", *arguments]
                wall, rss, cpu = build(state, context, reference, *flags)
                cold[tool].append((wall, rss, cpu, self.digest(reference)))
                wall, rss, cpu = build(state, context, reference, *flags)
                cached[tool].append((wall, rss, cpu, self.digest(reference)))
                shutil.rmtree(state, ignore_errors=True)
        self.record("S8-cached", "Debian apt-get install, cached rebuild+push", cached)
        self.record("S8", "Debian apt-get install ca-certificates curl", cold, target="no slower than buildah",
                    extra={"cached": self.results.pop("S8-cached")})

    def require_same(self, scenario, runs):
        digests = {run[3] for run in runs}
        if len(digests) != 1:
            self.results[scenario]["note"] = f"DIGESTS DIFFER across repetitions: {sorted(digests)}"
            log(f"{scenario}: Slipway's digests differ across repetitions: {sorted(digests)}")


def main():
    os.chdir(ROOT)
    subprocess.run(["bash", "Scripts/setup.sh"], check=True)
    if os.geteuid() != 0:
        sys.exit("bench: run as root (RUN steps and buildah's chroot isolation need it)")
    # As a release would ship it: optimised, the Swift runtime and Foundation linked in (it
    # starts in about 12 ms instead of 18: fewer libraries to load and relocate). A build
    # folder of its own, so the tests' debug build is left alone.
    log("bench: building slipway (release, static Swift runtime, in .build-static)")
    subprocess.run(["swift", "build", "-c", "release", "--product", "slipway", "--static-swift-stdlib", "--scratch-path", ".build-static"],
                   check=True, stdout=sys.stderr)
    slipway = os.path.join(ROOT, ".build-static/release/slipway")
    bench = Bench(slipway)
    started = time.monotonic()
    try:
        cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
        log(f"machine: {os.cpu_count()} cores, {cpu}; repetitions {REPS} (S4, S5, S8: {min(REPS, 3)}), tools alternating")
        bench.prepare_bases(need_debian="S8" in WANTED)
        log(f"{'id':<4} {'scenario':<44} {'slipway s (min–max)':>22} {'peer s (min–max)':>22} {'peer':<9} {'ratio':>6} {'RSS MB':>6} {'peer':>6}")
        if {"S1", "S2", "S3"} & set(WANTED):
            bench.s1_s2_s3()
        if "S4" in WANTED:
            bench.s4()
        if {"S5", "S9"} & set(WANTED):
            bench.s5_s9()
        if "S6" in WANTED:
            bench.s6()
        if "S7" in WANTED:
            bench.s7()
        if "S8" in WANTED:
            bench.s8()
    finally:
        bench.lab.stop()
    machine = {"cores": os.cpu_count(), "cpu": cpu, "repetitions": REPS, "seconds": round(time.monotonic() - started, 1)}
    with open(os.path.join(ROOT, "bench-results.json"), "w") as f:
        json.dump({"machine": machine, **bench.results}, f, indent=2)
    log(f"bench: {machine['seconds']} s; results in bench-results.json")


if __name__ == "__main__":
    main()
