public import SlipwayKernel

/// One Dockerfile instruction as written: keyword, flags, arguments and heredocs.
public struct Instruction: Sendable, Hashable {
    public enum Keyword: String, Sendable, Hashable, CaseIterable {
        case from, run, cmd, label, maintainer, expose, env, add, copy, entrypoint, volume, user, workdir, arg, onbuild
        case stopsignal, healthcheck, shell
    }

    /// `--name=value` or `--name` (value nil).
    public struct Flag: Sendable, Hashable {
        public var name: String
        public var value: String?
    }

    public enum Arguments: Sendable, Hashable {
        /// `["executable", "arg"]`: no shell, no expansion.
        case json([String])
        /// Everything after the keyword and flags, continuation lines joined.
        case shell(String)
    }

    /// `<<EOF ... EOF` bodies attached to RUN, COPY or ADD.
    public struct Heredoc: Sendable, Hashable {
        public var name: String
        public var content: String
        /// False when the delimiter was quoted (`<<"EOF"`): no variable expansion.
        public var expands: Bool
    }

    public var keyword: Keyword
    public var flags: [Flag]
    public var arguments: Arguments
    public var heredocs: [Heredoc]
    /// For `ONBUILD`: the instruction it registers.
    public indirect enum Nested: Sendable, Hashable { case none, instruction(Instruction) }
    public var nested: Nested
    public var location: SourceLocation
    /// The instruction as written (continuations joined), for history and cache keys.
    public var original: String
    /// What the grammar read, arguments split the way this keyword splits them.
    public var syntax: SyntaxNode

    public var name: String { keyword.rawValue.uppercased() }

    public func flag(_ name: String) -> String? { flags.first { $0.name == name }.flatMap { $0.value ?? "" } }

    public func hasFlag(_ name: String) -> Bool { flags.contains { $0.name == name } }

    /// A flag that is on or off: `--link` and `--link=true` are on; absent or `--link=false`, off.
    /// - Throws: ``DockerfileError`` for any other value.
    public func booleanFlag(_ name: String) throws -> Bool {
        guard let flag = flags.last(where: { $0.name == name }) else { return false }
        switch flag.value?.lowercased() {
        case nil, "", "true": return true
        case "false": return false
        case let other?: throw error("--\(name)=\(other): expected true or false")
        }
    }

    func error(_ message: String) -> DockerfileError {
        DockerfileError(location: location, instruction: name, message: message)
    }
}

/// One build stage: `FROM base [AS name]` and what follows until the next FROM.
public struct Stage: Sendable, Hashable {
    public var index: Int
    /// Lowercased, as stage names are case-insensitive.
    public var name: String?
    /// The base as written (before ARG expansion): an image, another stage's name, or `scratch`.
    public var base: String
    public var platform: String?
    public var from: Instruction
    public var instructions: [Instruction]
}
