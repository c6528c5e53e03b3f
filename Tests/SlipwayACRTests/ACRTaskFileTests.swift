import SlipwayACR
import SlipwayKernel
import Testing

/// acr-task.yaml files mapped to pipelines as acb reads them, and every property Slipway cannot
/// honour refused with its line.
struct ACRTaskFileTests {
    let run = RunInfo(id: "cb7", facts: ["registry": "reg.example.com", "date": "20261203-101500z"], values: .object(["tag": .string("v2")]))

    func load(_ text: String, secrets: [String: String] = [:]) throws -> ACRTaskFile {
        try ACRTaskFile(text: text, file: "task.yaml", run: run, secrets: secrets)
    }

    @Test func stepsFollowAcbsOrderingAndDefaults() throws {
        let task = try load(
            """
            version: v1.1.0
            stepTimeout: 120
            env: ["A=task", "B=task"]
            steps:
              - build: -t $Registry/app:$ID -t $Registry/app:{{.Values.tag}} -f Dockerfile.prod --build-arg X=1 --target final .
              - id: second
                cmd: bash echo hi
                env: ["B=step"]
              - id: parallel
                cmd: busybox:stable sh -c 'echo "a b"'
                when: ["-"]
              - id: join
                cmd: $Registry/app:$ID
                when: ["second", "parallel"]
                detach: true
                ports: ["8080:80"]
              - push: ["$Registry/app:{{.Values.tag}}", "reg.example.com/app:cb7"]
                when: ["acb_step_0"]
            """)
        let steps = task.pipeline.steps
        #expect(steps.map(\.id.rawValue) == ["acb_step_0", "second", "parallel", "join", "acb_step_4"])
        #expect(steps[0].configuration["tags"] == .array([.string("reg.example.com/app:cb7"), .string("reg.example.com/app:v2")]))
        #expect(steps[0].configuration["file"] == .string("Dockerfile.prod"))
        #expect(steps[0].configuration["build_args"] == .object(["X": .string("1")]))
        #expect(steps[0].options.timeout?.duration == .seconds(120))
        // Without when: the step before; when ["-"]: nothing.
        #expect(steps[1].dependencies == [StepID("acb_step_0")])
        #expect(steps[2].dependencies.isEmpty)
        #expect(steps[1].configuration["image"] == .string("mcr.microsoft.com/bash:d0725bc"))
        #expect(steps[1].configuration["args"] == .array([.string("echo"), .string("hi")]))
        #expect(steps[1].options.env == ["A": "task", "B": "step"])
        #expect(steps[2].configuration["args"] == .array([.string("sh"), .string("-c"), .string("echo \"a b\"")]))
        // The cmd runs the image the first step built, so it depends on it too.
        #expect(steps[3].configuration["image"] == .step(StepID("acb_step_0")))
        #expect(Set(steps[3].dependencies) == [StepID("second"), StepID("parallel"), StepID("acb_step_0")])
        #expect(steps[3].configuration["stop_timeout"] == .int(0))
        #expect(steps[4].kind == "push" && steps[4].options.retries == 2)
        #expect(steps[4].configuration["tags"] == .array([.string("reg.example.com/app:v2"), .string("reg.example.com/app:cb7")]))
        #expect(steps[4].location.line == 17)
    }

    @Test func aliasesNeedVersionOneOneAndCanBeDefined() throws {
        let old = try load("version: v1.0.0\nsteps:\n  - cmd: busybox echo $ID\n")
        #expect(old.pipeline.steps[0].configuration["args"] == .array([.string("echo"), .string("$ID")]))
        let custom = try load(
            """
            version: v1.1.0
            alias:
              values:
                greet: echo hello
              directive: "^"
            steps:
              - cmd: busybox ^greet ^ID ^HOME $ID ^^
            """)
        #expect(custom.pipeline.steps[0].configuration["args"] == .array(["echo", "hello", "cb7", "^HOME", "$ID", "^"].map { .string($0) }))
        #expect(custom.pipeline.steps[0].location.line == 7)
    }

    @Test func secretsAndSecretVolumes() throws {
        let task = try load(
            """
            version: v1.1.0
            secrets:
              - id: token
            volumes:
              - name: config
                secret:
                  app.conf: aGVsbG8gc2VjcmV0
            steps:
              - cmd: busybox cat /etc/app/app.conf
                env: ["TOKEN={{.Secrets.token}}"]
                volumeMounts:
                  - name: config
                    mountPath: /etc/app
            """, secrets: ["token": "t0k3n"])
        #expect(task.secretIDs == ["token"])
        #expect(task.maskedValues == ["hello secret"])
        #expect(task.pipeline.steps[0].options.env["TOKEN"] == "t0k3n")
        #expect(task.pipeline.steps[0].configuration["files"] == .object(["/etc/app/app.conf": .string("hello secret")]))
        // What a run is given: the secrets, plus the volume contents to mask; a declared id not given.
        let given = task.secrets(merging: ["token": "t0k3n"])
        #expect(given.all == ["token": "t0k3n", "acr-volume-0": "hello secret"] && given.missing.isEmpty)
        #expect(task.secrets(merging: [:]).missing == ["token"])
    }

    /// Each property Slipway cannot honour, with the line it is on.
    static let refusals: [(String, String)] = [
        ("steps:\n  - cmd: busybox\n    keep: true\n", "task.yaml:3: keep: Slipway removes every container"),
        ("steps:\n  - cmd: busybox\n    cache: enabled\n", "task.yaml:3: cache: registry build caches"),
        ("steps:\n  - cmd: busybox\n    retryOnErrors: [x]\n", "task.yaml:3: retryOnErrors"),
        ("steps:\n  - cmd: busybox\n    isolation: hyperv\n", "task.yaml:3: isolation"),
        ("steps:\n  - cmd: busybox\n    frobnicate: 1\n", "task.yaml:3: unknown step property 'frobnicate'"),
        ("steps:\n  - build: -t a .\n    detach: true\n", "task.yaml:3: detach: only cmd steps take it, this is a build step"),
        ("steps:\n  - build: --squash -t a .\n", "task.yaml:2: build: --squash is not supported"),
        ("steps:\n  - build: -t a\n", "task.yaml:2: build: no context"),
        ("steps:\n  - build: -t a .\n    cmd: busybox\n", "task.yaml:2: a step has exactly one of build, push or cmd"),
        ("steps:\n  - push: [\"x/y:1\"]\n", "task.yaml:2: push: x/y:1 is not built by a build step"),
        ("steps:\n  - id: a\n    cmd: busybox\n    when: [\"a\"]\n", "task.yaml:2: when: step 'a' cannot wait for itself"),
        ("steps:\n  - cmd: busybox\n    when: [\"-\", \"x\"]\n", "when: \"-\" cannot be mixed"),
        ("steps:\n  - cmd: busybox\n    when: [\"ghost\"]\n", "when: no step has the id 'ghost'"),
        ("steps:\n  - cmd: busybox\n    network: other\n", "task.yaml:3: network: 'other' is not this task's network"),
        ("secrets:\n  - id: t\n    keyvault: https://kv\nsteps:\n  - cmd: busybox\n", "task.yaml:3: secrets: keyvault: Slipway has no Key Vault"),
        ("networks:\n  - name: a\n  - name: b\nsteps:\n  - cmd: busybox\n", "task.yaml:2: networks: Slipway gives each run one network"),
        ("volumes:\n  - name: v\n    path: /x\nsteps:\n  - cmd: busybox\n", "volumes: only secret volumes are supported"),
        ("totalTimeout: 10\nsteps:\n  - cmd: busybox\n", "task.yaml:1: totalTimeout: acr-task.yaml has no such property"),
        ("version: v9\nsteps:\n  - cmd: busybox\n", "task.yaml:1: version: 'v9' is not one of"),
        ("steps:\n  - cmd: busybox\n    volumeMounts:\n      - name: nope\n        mountPath: /x\n", "task.yaml:4: volumeMounts: no volume named 'nope'"),
        ("steps:\n  - cmd: {{ .Run.ID\n", "task.yaml:2: template: unclosed action"),
        ("steps:\n  - cmd: busybox\n    timeout: soon\n", "task.yaml:3: timeout: expected a number of seconds"),
        ("steps: []\n", "steps: expected a list of steps"),
        ("workingDirectory: /src\nsteps:\n  - build: -t a .\n", "task.yaml:3: build: the context '.' is relative, and the task's workingDirectory is /src"),
    ]

    @Test(arguments: refusals)
    func refusesWhatItCannotHonourWithTheLine(text: String, expected: String) {
        #expect {
            try load(text)
        } throws: { error in
            "\(error)".contains(expected)
        }
    }
}
