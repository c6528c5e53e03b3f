public import Foundation
import Glibc

/// A small Linux base image for tests that run containers: Debian's static busybox with the
/// applets linked in, `/etc/passwd` with root and `app` (1000), and a sticky `/tmp`. Built by
/// COPY alone, so every builder under test starts from the same bytes.
public enum BusyboxImage {
    /// Where Debian's busybox-static puts the binary.
    public static let binary = "/bin/busybox"

    public static let applets = [
        "sh", "echo", "cat", "rm", "mkdir", "touch", "chown", "chmod", "ln", "ls", "id", "printf", "mv", "cp", "true",
        "false", "test", "sed", "tr", "wc", "sort", "head", "env", "tar", "gzip", "sleep", "find", "grep", "dd", "stat", "nc", "timeout", "seq", "httpd", "wget", "hostname", "kill",
    ]

    public static let dockerfile = """
        FROM scratch
        COPY rootfs/ /
        ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
        CMD ["/bin/sh"]
        """

    /// A build context whose Dockerfile makes the image.
    /// - Throws: ``Prerequisites/Missing`` when busybox-static is not installed.
    public static func context() throws -> URL {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Prerequisites.Missing(description: "missing prerequisite: \(binary) (Debian's busybox-static); run `make test` (Scripts/setup.sh installs it)")
        }
        let context = try Scratch.files([
            "Dockerfile": dockerfile,
            "rootfs/etc/passwd": "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n",
            "rootfs/etc/group": "root:x:0:\napp:x:1000:\n",
            "rootfs/root/.profile": "",
            "rootfs/home/app/.profile": "",
        ], label: "busybox")
        let rootfs = context.appendingPathComponent("rootfs")
        try FileManager.default.createDirectory(at: rootfs.appendingPathComponent("bin"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: binary, toPath: rootfs.appendingPathComponent("bin/busybox").path)
        for applet in applets { symlink("busybox", rootfs.appendingPathComponent("bin/\(applet)").path) }
        for folder in ["tmp", "proc", "sys", "dev", "usr/bin"] {
            try FileManager.default.createDirectory(at: rootfs.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        chmod(rootfs.appendingPathComponent("tmp").path, 0o1777)
        return context
    }
}
