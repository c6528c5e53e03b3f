/// Typed readings of instruction arguments, with variables expanded from `words.environment`.
extension Instruction {
    /// `ENV a=1 b="two words"` or the legacy `ENV a one value`; `LABEL k=v ...`;
    /// `ARG name[=default] ...` (a nil value means no default).
    public func keyValues(_ words: ShellWords) throws -> [(key: String, value: String?)] {
        guard case .shell(let text) = arguments else { throw error("expects key=value pairs, not a JSON array") }
        let parsed = try expanding(text, words.words)
        guard let first = parsed.first else { throw error("requires arguments") }
        if keyword == .env, !first.contains("=") {
            // Legacy form: ENV key value with spaces.
            let key = text.prefix { !$0.isWhitespace }
            let value = try expanding(String(text.dropFirst(key.count).drop { $0.isWhitespace }), words.word)
            guard !value.isEmpty else { throw error("ENV \(key) needs a value (ENV key=value)") }
            return [(String(key), value)]
        }
        return try parsed.map { word in
            guard let equals = word.firstIndex(of: "=") else {
                if keyword == .arg { return (word, nil) }
                throw error("'\(word)' is not key=value")
            }
            let key = String(word[..<equals])
            guard !key.isEmpty else { throw error("'\(word)' has an empty key") }
            return (key, String(word[word.index(after: equals)...]))
        }
    }

    /// COPY/ADD: sources and destination (JSON or shell form). Heredocs count as sources.
    public func sourcesAndDestination(_ words: ShellWords) throws -> (sources: [String], destination: String) {
        let items: [String]
        switch arguments {
        case .json(let array): items = try array.map { try expanding($0, words.word) }
        case .shell(let text):
            // Heredoc markers (<<EOF, <<-EOF, <<"EOF") name the heredoc sources, not files.
            let markers = Set(heredocs.flatMap { ["<<\($0.name)", "<<-\($0.name)", "<<\"\($0.name)\"", "<<-\"\($0.name)\"", "<<'\($0.name)'", "<<-'\($0.name)'"] })
            items = try expanding(text, words.words).filter { !markers.contains($0) && !(heredocs.isEmpty == false && $0.hasPrefix("<<")) }
        }
        guard let destination = items.last, items.count >= 2 || (!heredocs.isEmpty && items.count >= 1) else {
            throw error("requires at least one source and a destination")
        }
        return (Array(items.dropLast()), destination)
    }

    /// EXPOSE 80 443/tcp 53/udp → ["80/tcp", "443/tcp", "53/udp"].
    public func ports(_ words: ShellWords) throws -> [String] {
        guard case .shell(let text) = arguments else { throw error("expects ports") }
        return try expanding(text, words.words).map { port in
            let parts = port.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            let proto = parts.count == 2 ? String(parts[1]) : "tcp"
            let range = parts[0].split(separator: "-")
            guard (1...2).contains(parts.count), ["tcp", "udp", "sctp"].contains(proto), (1...2).contains(range.count),
                range.allSatisfy({ Int($0).map { (1...65535).contains($0) } ?? false })
            else { throw error("invalid port '\(port)' (expected PORT[/tcp|udp|sctp])") }
            return "\(parts[0])/\(proto)"
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
