import DockerfileBuilder
import Foundation
import SlipwayOCI
import SlipwayTesting
import Testing

/// Dockerfiles with RUN, built by Slipway (runc over overlayfs) and by buildah (chroot
/// isolation) on the same busybox base, served by a real registry on loopback. Both results
/// are unpacked and compared as in ``DifferentialBuildTests``. Needs root, runc, busybox-static.
///
/// Intended difference: buildah 1.28 leaves the empty mount targets it made for a RUN
/// (`/run`, `/dev` on a base without one, `/etc/hosts`, `/etc/hostname`, `/etc/resolv.conf`) in the layer; Slipway, like
/// BuildKit, takes its mount targets out again. ``DifferentialBuildTests/compare`` ignores
/// exactly those when they are empty in buildah's image and absent from Slipway's.
@Suite(.serialized)
struct DifferentialRunTests {
    struct Case: Sendable, CustomStringConvertible {
        var name: String
        /// The Dockerfile; `BASE` is the busybox image's reference.
        var dockerfile: String
        var files: [String: String] = [:]
        var buildArgs: [String: String] = [:]
        var description: String { name }
    }

    static let cases: [Case] = [
        Case(name: "RUN writes files, modes, symlinks and hardlinks", dockerfile: """
            FROM ${BASE}
            RUN mkdir -p /opt/app/bin && echo 'echo hi' > /opt/app/bin/hi && chmod 0750 /opt/app/bin/hi \\
                && ln -s /opt/app/bin/hi /usr/bin/hi && ln /opt/app/bin/hi /opt/app/hard && chmod 4755 /opt/app/hard
            """),
        Case(name: "whiteouts from RUN rm, and an emptied-and-refilled directory (opaque)", dockerfile: """
            FROM ${BASE}
            RUN rm /bin/grep /root/.profile && rm -rf /home/app
            RUN rm -rf /usr/bin && mkdir /usr/bin && echo only > /usr/bin/only
            """),
        Case(name: "USER by name, WORKDIR created by the step that needs it, ownership of what RUN writes", dockerfile: """
            FROM ${BASE}
            RUN mkdir /data && chown app:app /data
            USER app
            WORKDIR /data
            RUN id > ids.txt && touch mine
            USER root
            RUN chown 1000:0 /data/mine && mkdir -p /srv/www && chown -R 1000:1000 /srv
            """),
        Case(name: "ARG and ENV reach RUN as variables; exec form; ARG not kept in the image", dockerfile: """
            FROM ${BASE}
            ARG VERSION=0.1
            ARG CHANNEL
            ENV APP_HOME=/opt/app LEVEL=${VERSION}
            RUN mkdir -p $APP_HOME && echo "$VERSION $CHANNEL $LEVEL" > $APP_HOME/version
            RUN ["/bin/sh", "-c", "env | grep -E '^(VERSION|CHANNEL|APP_HOME)=' | sort > /opt/app/env.txt"]
            """, buildArgs: ["CHANNEL": "stable"]),
        Case(name: "multi-stage: a build stage's RUN output copied into the final stage", dockerfile: """
            FROM ${BASE} AS build
            WORKDIR /src
            COPY main.txt .
            RUN tr a-z A-Z < main.txt > out.txt && mkdir -p /dist && cp out.txt /dist/ && chmod 0640 /dist/out.txt
            FROM ${BASE}
            COPY --from=build /dist /app
            COPY --from=build --chown=1000:1000 /src/main.txt /app/main.txt
            CMD ["cat", "/app/out.txt"]
            """, files: ["main.txt": "hello differential\\n"]),
        Case(name: "SHELL changes how RUN runs", dockerfile: """
            FROM ${BASE}
            SHELL ["/bin/sh", "-e", "-c"]
            RUN echo "shell: $0" > /shell.txt
            SHELL ["/bin/sh", "-c"]
            RUN false || echo "recovered" > /recovered.txt
            """),
        Case(name: "ADD of a tar, then RUN edits what it unpacked", dockerfile: """
            FROM ${BASE}
            ADD bundle.tar /opt/bundle/
            RUN sed -i 's/doc/edited/' /opt/bundle/share/doc.txt && rm /opt/bundle/bin/tool
            """),
        Case(name: ".dockerignore and COPY . then RUN lists what arrived", dockerfile: """
            FROM ${BASE}
            WORKDIR /ctx
            COPY . .
            RUN find . | sort > /listing.txt && wc -c < keep.txt > /size.txt
            """, files: ["keep.txt": "keep me\\n", "skip.log": "no\\n", "sub/inner.txt": "in\\n", "sub/also.log": "no\\n",
                         ".dockerignore": "**/*.log\\nDockerfile\\n"]),
        Case(name: "RUN builds a tree with a tarball round trip, ENV PATH change", dockerfile: """
            FROM ${BASE}
            ENV PATH=/opt/tools:$PATH
            RUN mkdir -p /opt/tools /tmp/pack/a/b && echo 'echo tool' > /opt/tools/t && chmod +x /opt/tools/t \\
                && echo x > /tmp/pack/a/b/c && cd /tmp && tar -cf /tmp/pack.tar pack && rm -rf /tmp/pack \\
                && mkdir /unpacked && tar -xf /tmp/pack.tar -C /unpacked && rm /tmp/pack.tar && t > /opt/tool-output
            """),
        Case(name: "COPY --chown by user and group name, from the image's own /etc/passwd", dockerfile: """
            FROM ${BASE}
            COPY --chown=app:app main.txt /home/app/main.txt
            COPY --chown=app main.txt /srv/by-user.txt
            COPY --chown=1000:root main.txt /srv/mixed.txt
            RUN stat -c '%u:%g %n' /home/app/main.txt /srv/by-user.txt /srv/mixed.txt > /owners.txt
            """, files: ["main.txt": "owned\n"]),
        Case(name: "a RUN that changes nothing, metadata after RUN", dockerfile: """
            FROM ${BASE}
            RUN true
            LABEL stage=final
            EXPOSE 9000
            STOPSIGNAL SIGTERM
            ENTRYPOINT ["/bin/sh", "-c"]
            CMD ["echo done"]
            """),
    ]

    @Test(arguments: cases)
    func slipwayAndBuildahAgree(_ testCase: Case) async throws {
        try Prerequisites.require(["runc", "buildah", "umoci"])
        let registry = try await RegistryHarness.start()
        defer { registry.stop() }
        let base = "\(registry.address)/busybox:1"
        try await Self.publishBase(as: base)

        var files = testCase.files
        files["Dockerfile"] = testCase.dockerfile.replacingOccurrences(of: "${BASE}", with: base)
        let context = try Scratch.files(files, label: "diff-run")
        if testCase.dockerfile.contains("bundle.tar") {
            try OCITestImages.tarball(["bin/tool": "#!/bin/sh\n", "share/doc.txt": "doc\n"]).write(to: context.appendingPathComponent("bundle.tar"))
        }
        try await DifferentialBuildTests.compare(context, buildArgs: testCase.buildArgs, buildahFlags: ["--tls-verify=false"])
    }

    /// Builds the busybox base (COPY only) and pushes it where both builders will pull it from.
    static func publishBase(as reference: String) async throws {
        let store = try Scratch.store("busybox")
        let result = try await NativeDockerfileBuilder(store: store, registry: RegistryClient())
            .build(BuildRequest(context: try BusyboxImage.context()))
        _ = try await RegistryClient().push(result.manifest, from: store, to: try ImageReference(parsing: reference))
    }
}
