import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayTesting
import Testing

/// acr-task.yaml files and their Lua twins give the same outcome: the same steps with the same
/// statuses, exit codes and output. Part of ``CmdStepTests`` so that it runs serialized with
/// the other container tests (they check the host's bridges afterwards).
extension CmdStepTests {
    struct Twin: Sendable, CustomTestStringConvertible {
        var name: String
        var yaml: String
        var lua: String
        var secrets: [String: String] = [:]
        var testDescription: String { name }
    }

    /// Shared by both sides: a busybox image built from the test's context, tagged so a YAML
    /// `cmd:` can name it.
    static let yamlBase = "version: v1.1.0\nsteps:\n  - id: base\n    build: -t local/busybox:twin {{ .Values.base }}\n"
    static let luaBase = "local base = build { id = \"base\", context = values.base, tags = { \"local/busybox:twin\" } }\n"

    static let twins: [Twin] = [
        Twin(
            name: "steps without when run in file order",
            yaml: yamlBase + """
                  - id: one
                    cmd: local/busybox:twin sh -c 'echo one >> order.txt; cat order.txt'
                  - id: two
                    cmd: local/busybox:twin sh -c 'echo two >> order.txt; cat order.txt'
                  - id: three
                    cmd: local/busybox:twin sh -c 'echo three >> order.txt; cat order.txt'
                """,
            lua: luaBase + """
                local one = cmd { id = "one", image = base, args = { "sh", "-c", "echo one >> order.txt; cat order.txt" } }
                local two = cmd { id = "two", image = base, after = one, args = { "sh", "-c", "echo two >> order.txt; cat order.txt" } }
                local three = cmd { id = "three", image = base, after = two, args = { "sh", "-c", "echo three >> order.txt; cat order.txt" } }
                return pipeline { steps = { three } }
                """),
        Twin(
            name: "when [\"-\"] and a list of ids run steps side by side",
            yaml: yamlBase + """
                  - id: left
                    cmd: local/busybox:twin sh -c 'touch left; for i in $(seq 200); do [ -e right ] && echo met && exit 0; sleep 0.05; done; exit 1'
                  - id: right
                    cmd: local/busybox:twin sh -c 'touch right; for i in $(seq 200); do [ -e left ] && echo met && exit 0; sleep 0.05; done; exit 1'
                    when: ["base"]
                  - id: after
                    cmd: local/busybox:twin echo both done
                    when: ["left", "right"]
                """,
            lua: luaBase + """
                local wait = "for i in $(seq 200); do [ -e %s ] && echo met && exit 0; sleep 0.05; done; exit 1"
                local left = cmd { id = "left", image = base, args = { "sh", "-c", "touch left; " .. string.format(wait, "right") } }
                local right = cmd { id = "right", image = base, args = { "sh", "-c", "touch right; " .. string.format(wait, "left") } }
                return pipeline { steps = { cmd { id = "after", image = base, after = { left, right }, args = { "echo", "both", "done" } } } }
                """),
        Twin(
            name: "ignoreErrors lets the run go on; task env under step env",
            yaml: """
                version: v1.1.0
                env: ["WHO=task", "LEVEL=1"]
                steps:
                  - id: base
                    build: -t local/busybox:twin {{ .Values.base }}
                  - id: broken
                    cmd: local/busybox:twin sh -c 'echo failing; exit 4'
                    ignoreErrors: true
                  - id: env
                    cmd: local/busybox:twin sh -c 'echo $WHO $LEVEL'
                    env: ["WHO=step"]
                """,
            lua: luaBase + """
                local broken = cmd { id = "broken", image = base, ignore_errors = true, args = { "sh", "-c", "echo failing; exit 4" } }
                local env = cmd { id = "env", image = base, after = broken, env = { WHO = "step", LEVEL = "1" }, args = { "sh", "-c", "echo $WHO $LEVEL" } }
                return pipeline { steps = { env } }
                """),
        Twin(
            name: "retries and retryDelay",
            yaml: yamlBase + """
                  - id: flaky
                    cmd: local/busybox:twin sh -c 'echo x >> tries; [ $(wc -l < tries) -ge 2 ] && echo ok'
                    retries: 2
                    retryDelay: 1
                """,
            lua: luaBase + """
                return pipeline { steps = { cmd { id = "flaky", image = base, retries = 2, retry_delay = "1s",
                  args = { "sh", "-c", "echo x >> tries; [ $(wc -l < tries) -ge 2 ] && echo ok" } } } }
                """),
        Twin(
            name: "repeat runs again after success",
            yaml: yamlBase + """
                  - id: again
                    cmd: local/busybox:twin sh -c 'echo x >> runs; wc -l < runs'
                    repeat: 2
                """,
            lua: luaBase + """
                return pipeline { steps = { cmd { id = "again", image = base, ["repeat"] = 2, args = { "sh", "-c", "echo x >> runs; wc -l < runs" } } } }
                """),
        Twin(
            name: "a secret and a secret volume reach the container and never the log",
            yaml: """
                version: v1.1.0
                secrets:
                  - id: token
                volumes:
                  - name: config
                    secret:
                      app.conf: dm9sdW1lLXNlY3JldC05OQ==
                steps:
                  - id: base
                    build: -t local/busybox:twin {{ .Values.base }}
                  - id: use
                    cmd: local/busybox:twin sh -c 'echo $TOKEN; cat /etc/app/app.conf; echo; echo visible'
                    env: ["TOKEN={{ .Secrets.token }}"]
                    volumeMounts:
                      - name: config
                        mountPath: /etc/app
                """,
            lua: luaBase + """
                return pipeline { steps = { cmd { id = "use", image = base, secrets = { "token" }, secret_env = { TOKEN = "token" },
                  files = { ["/etc/app/app.conf"] = "volume-secret-99" },
                  args = { "sh", "-c", "echo $TOKEN; cat /etc/app/app.conf; echo; echo visible" } } } }
                """,
            // The Lua twin writes the file's contents itself; the run is given them as a secret so
            // they are masked, as the YAML's secret volume is.
            secrets: ["token": "token-secret-42", "config": "volume-secret-99"]),
        Twin(
            name: "workingDirectory, disableWorkingDirectoryOverride, user and entryPoint",
            yaml: """
                version: v1.1.0
                workingDirectory: /tmp
                steps:
                  - id: base
                    build: -t local/busybox:twin {{ .Values.base }}
                  - id: task-dir
                    cmd: local/busybox:twin pwd
                  - id: image-dir
                    cmd: local/busybox:twin pwd
                    disableWorkingDirectoryOverride: true
                  - id: who
                    cmd: local/busybox:twin -c 'id -u; pwd'
                    entryPoint: sh
                    user: "1000"
                    workingDirectory: /workspace
                """,
            lua: luaBase + """
                local a = cmd { id = "task-dir", image = base, workdir = "/tmp", args = { "pwd" } }
                local b = cmd { id = "image-dir", image = base, after = a, image_workdir = true, args = { "pwd" } }
                local c = cmd { id = "who", image = base, after = b, entrypoint = { "sh" }, user = "1000", args = { "-c", "id -u; pwd" } }
                return pipeline { steps = { c } }
                """),
        Twin(
            name: "a service is reached by its step id and stopped at the end",
            yaml: yamlBase + """
                  - id: web
                    cmd: local/busybox:twin sh -c 'mkdir -p /srv && echo served > /srv/index.html && exec httpd -f -p 8080 -h /srv'
                    detach: true
                    expose: ["8080"]
                  - id: client
                    cmd: local/busybox:twin sh -c 'for i in $(seq 100); do wget -q -O - http://web:8080/ && exit 0; sleep 0.1; done; exit 1'
                """,
            lua: luaBase + """
                local web = cmd { id = "web", image = base, detach = true, stop_timeout = "0s", expose = { "8080" },
                  args = { "sh", "-c", "mkdir -p /srv && echo served > /srv/index.html && exec httpd -f -p 8080 -h /srv" } }
                return pipeline { steps = { cmd { id = "client", image = base, after = web,
                  args = { "sh", "-c", "for i in $(seq 100); do wget -q -O - http://web:8080/ && exit 0; sleep 0.1; done; exit 1" } } } }
                """),
        Twin(
            name: "a step timeout stops the container",
            yaml: yamlBase + """
                  - id: slow
                    cmd: local/busybox:twin sleep 30
                    timeout: 1
                    ignoreErrors: true
                  - id: next
                    cmd: local/busybox:twin echo went on
                """,
            lua: luaBase + """
                local slow = cmd { id = "slow", image = base, timeout = "1s", ignore_errors = true, args = { "sleep", "30" } }
                return pipeline { steps = { cmd { id = "next", image = base, after = slow, args = { "echo", "went", "on" } } } }
                """),
        Twin(
            name: "startDelay waits before the step",
            yaml: yamlBase + """
                  - id: late
                    cmd: local/busybox:twin echo late
                    startDelay: 1
                """,
            lua: luaBase + """
                return pipeline { steps = { cmd { id = "late", image = base, start_delay = "1s", args = { "echo", "late" } } } }
                """),
    ]

    /// What must be the same: each step's status and exit code, and what it printed (service
    /// start lines name their container and address, which differ from run to run).
    static func outcome(_ run: Run) -> [String: String] {
        var outcome: [String: String] = [:]
        for step in run.report.steps {
            let lines = run.log.lines.filter { $0.step == step.id && !$0.text.hasPrefix("service started as") && !$0.text.hasPrefix("built sha256") }
            outcome[step.id.rawValue] = "\(step.status.rawValue) \(step.exitCode.map(String.init) ?? "-") attempts=\(step.attempts)\n"
                + lines.map(\.text).filter { !$0.contains("Dockerfile:") }.joined(separator: "\n")
        }
        return outcome
    }

    @Test(arguments: twins)
    func anAcrTaskFileAndItsLuaTwinGiveTheSameOutcome(_ twin: Twin) async throws {
        let yaml = try await run(yaml: twin.yaml, secrets: twin.secrets)
        let lua = try await run(twin.lua, secrets: twin.secrets)
        #expect(yaml.report.status == lua.report.status, "\(yaml.log.text)\n---\n\(lua.log.text)")
        #expect(Self.outcome(yaml) == Self.outcome(lua), "\(yaml.log.text)\n---\n\(lua.log.text)")
        for secret in twin.secrets.values {
            #expect(!yaml.log.text.contains(secret) && !lua.log.text.contains(secret))
        }
        try await expectNothingLeft(yaml)
        try await expectNothingLeft(lua)
    }

    /// acb's ordering, read from the run's events rather than from sleeps: a step without
    /// `when` starts after the one before it finished; steps given the same `when` overlap.
    @Test func whenOrderingFollowsAcb() async throws {
        let sequential = try await run(yaml: Self.twins[0].yaml)
        let parallel = try await run(yaml: Self.twins[1].yaml)
        func sequence(_ run: Run, _ kind: RunEvent.Kind, _ step: String) -> Int {
            run.log.events.first { $0.kind == kind && $0.step == StepID(step) }?.sequence ?? -1
        }
        #expect(sequence(sequential, .stepStarted, "two") > sequence(sequential, .stepFinished, "one"))
        #expect(sequence(sequential, .stepStarted, "three") > sequence(sequential, .stepFinished, "two"))
        #expect(sequence(parallel, .stepStarted, "right") < sequence(parallel, .stepFinished, "left"))
        #expect(sequence(parallel, .stepStarted, "left") < sequence(parallel, .stepFinished, "right"))
        #expect(sequence(parallel, .stepStarted, "after") > max(sequence(parallel, .stepFinished, "left"), sequence(parallel, .stepFinished, "right")))
        let order = sequential.log.lines.filter { $0.step == "three" }.map(\.text)
        #expect(order == ["one", "two", "three"])
        try await expectNothingLeft(sequential)
        try await expectNothingLeft(parallel)
    }
}
