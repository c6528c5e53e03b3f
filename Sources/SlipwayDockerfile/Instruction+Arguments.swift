/// Typed readings of instruction arguments, with variables expanded from `words.environment`.
extension Instruction {
    /// `ENV a=1 b="two words"` or the legacy `ENV a one value`; `LABEL k=v ...`;
    /// `ARG name[=default] ...` (a nil value means no default). Keys and values are expanded
    /// one by one, as BuildKit does.
    public func keyValues(_ words: ShellWords) throws -> [(key: String, value: String?)] {
        switch syntax.arguments {
        case .pairs(let pairs):
            return try pairs.map { (try expanding($0.key, words.word), try expanding($0.value, words.word)) }
        case .words(let items) where keyword == .arg:
            return try items.map { item in
                guard let equals = item.firstIndex(of: "=") else { return (try expanding(item, words.word), nil) }
                guard equals != item.startIndex else { throw error("ARG names cannot be blank ('\(item)')") }
                return (try expanding(String(item[..<equals]), words.word), try expanding(String(item[item.index(after: equals)...]), words.word))
            }
        case .none: throw error("requires arguments")
        default: throw error("expects key=value pairs")
        }
    }

    /// COPY/ADD: sources and destination (JSON or shell form). Heredoc markers name sources
    /// whose content is the heredoc; they are left out here.
    public func sourcesAndDestination(_ words: ShellWords) throws -> (sources: [String], destination: String) {
        let raw: [String]
        switch syntax.arguments {
        case .json(let items), .words(let items): raw = items
        default: raw = []
        }
        guard let last = raw.last, raw.count >= 2 else { throw error("requires at least one source and a destination") }
        if Self.isHeredocMarker(last) { throw error("a heredoc cannot be the destination") }
        var sources: [String] = []
        for item in raw.dropLast() {
            if case .words = syntax.arguments, Self.isHeredocMarker(item) { continue }
            sources.append(try expanding(item, words.word))
        }
        return (sources, try expanding(last, words.word))
    }

    /// Whether the whole command is one heredoc marker (`RUN <<EOF`): its body is the script.
    public var commandIsHeredoc: Bool {
        guard case .shell(let text) = arguments, !heredocs.isEmpty else { return false }
        return Self.isHeredocMarker(text)
    }

    private static func isHeredocMarker(_ word: String) -> Bool {
        (try? SyntaxParser.heredocMarker(word)) != nil
    }

    /// EXPOSE 80 443/tcp 53/udp → ["80/tcp", "443/tcp", "53/udp"]. An unquoted variable
    /// holding several ports gives several ports.
    public func ports(_ words: ShellWords) throws -> [String] {
        guard case .words(let items) = syntax.arguments else { throw error("expects ports") }
        return try items.flatMap { try expanding($0, words.words) }.map { port in
            let parts = port.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            let proto = parts.count == 2 ? String(parts[1]) : "tcp"
            let range = parts[0].split(separator: "-")
            guard (1...2).contains(parts.count), ["tcp", "udp", "sctp"].contains(proto), (1...2).contains(range.count),
                range.allSatisfy({ Int($0).map { (1...65535).contains($0) } ?? false })
            else { throw error("invalid port '\(port)' (expected PORT[/tcp|udp|sctp])") }
            return "\(parts[0])/\(proto)"
        }
    }

    /// VOLUME: the paths (JSON or shell form), each expanded.
    public func paths(_ words: ShellWords) throws -> [String] {
        switch syntax.arguments {
        case .json(let items), .words(let items): try items.map { try expanding($0, words.word) }
        default: throw error("requires at least one path")
        }
    }

    /// USER, WORKDIR, STOPSIGNAL and other one-value instructions.
    public func singleValue(_ words: ShellWords) throws -> String {
        guard case .shell(let text) = arguments else { throw error("expects a value, not a JSON array") }
        let value = try expanding(text, words.word)
        guard !value.isEmpty else { throw error("requires a value") }
        return value
    }

    /// RUN, CMD, ENTRYPOINT: the exec form as is, the shell form wrapped in the stage's shell.
    public func command(shell: [String]) -> [String] {
        switch arguments {
        case .json(let array): array
        case .shell(let text): shell + [text]
        }
    }

    private func expanding<T>(_ text: String, _ transform: (String) throws -> T) throws -> T {
        do {
            return try transform(text)
        } catch let failure as ShellWords.Failure {
            throw error(failure.description)
        }
    }
}
