import SlipwayKernel

/// The `build:` string of an acr-task.yaml step — `docker build` flags and a context — as the
/// configuration of Slipway's `build` step. A flag Slipway cannot honour is refused by name.
struct DockerBuildCommand {
    var fields: [String: ConfigValue] = [:]
    var tags: [String] = []

    /// - Throws: a message naming the flag.
    init(_ text: String) throws(Refusal) {
        let words: [String]
        do {
            words = try CommandWords.split(text)
        } catch {
            throw Refusal("build: an unterminated quote")
        }
        var buildArgs: [String: ConfigValue] = [:]
        var labels: [String: ConfigValue] = [:]
        var contexts: [String: ConfigValue] = [:]
        var positional: [String] = []
        var index = 0
        func value(_ flag: String, inline: String?) throws(Refusal) -> String {
            if let inline { return inline }
            index += 1
            guard index < words.count else { throw Refusal("build: \(flag) needs a value") }
            return words[index]
        }
        func pair(_ flag: String, _ text: String) throws(Refusal) -> (String, String) {
            let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty else {
                throw Refusal("build: \(flag) \(text): expected NAME=VALUE (Slipway does not read build arguments from its own environment)")
            }
            return (parts[0], parts[1])
        }
        while index < words.count {
            let word = words[index]
            var flag = word
            var inline: String?
            if word.hasPrefix("--"), let equals = word.firstIndex(of: "=") {
                flag = String(word[..<equals])
                inline = String(word[word.index(after: equals)...])
            } else if word.count > 2, word.hasPrefix("-t") || word.hasPrefix("-f"), !word.hasPrefix("--") {
                flag = String(word.prefix(2))
                inline = String(word.dropFirst(2))
            }
            switch flag {
            case "-t", "--tag", "--image": tags.append(try value(flag, inline: inline))
            case "-f", "--file": fields["file"] = .string(try value(flag, inline: inline))
            case "--build-arg":
                let (name, text) = try pair(flag, try value(flag, inline: inline))
                buildArgs[name] = .string(text)
            case "--label":
                let (name, text) = try pair(flag, try value(flag, inline: inline))
                labels[name] = .string(text)
            case "--build-context":
                let (name, text) = try pair(flag, try value(flag, inline: inline))
                contexts[name] = .string(text)
            case "--target": fields["target"] = .string(try value(flag, inline: inline))
            case "--platform": fields["platform"] = .string(try value(flag, inline: inline))
            case "--no-cache": fields["no_cache"] = .bool(true)
            case "--network":
                let mode = try value(flag, inline: inline)
                switch mode {
                case "host", "default", "bridge": fields["network"] = .string("host")
                case "none": fields["network"] = .string("none")
                default: throw Refusal("build: --network \(mode): Slipway's builds use the host's network or none")
                }
            case "--rm", "--force-rm", "-q", "--quiet":
                // Intermediate containers are always removed, and output is the run log's.
                break
            default:
                if word.hasPrefix("-") && word != "-" {
                    throw Refusal("build: \(flag) is not supported by Slipway's build (supported: -t, -f, --build-arg, --label, --build-context, --target, --platform, --no-cache, --network)")
                }
                positional.append(word)
            }
            index += 1
        }
        guard positional.count == 1 else {
            throw Refusal(positional.isEmpty ? "build: no context (the last word, such as '.')" : "build: one context expected, got \(positional.joined(separator: " "))")
        }
        fields["context"] = .string(positional[0])
        if !buildArgs.isEmpty { fields["build_args"] = .object(buildArgs) }
        if !labels.isEmpty { fields["labels"] = .object(labels) }
        if !contexts.isEmpty { fields["build_contexts"] = .object(contexts) }
        if !tags.isEmpty { fields["tags"] = .array(tags.map { .string($0) }) }
    }

    struct Refusal: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }
}
