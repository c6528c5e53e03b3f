import Foundation

/// Reads what made a layer from a history entry's `created_by`, as Docker's classic builder
/// (`/bin/sh -c #(nop) COPY file:… in /app`), BuildKit (`COPY app /app # buildkit`), buildah
/// and Slipway (`COPY app /app`) write it. COPY, ADD and WORKDIR (which only makes its folder)
/// are safe; anything else, including every RUN form, is taken as having run something.
enum HistoryOrigin {
    static func isCopy(_ createdBy: String?) -> Bool {
        guard let word = instruction(createdBy)?.first?.uppercased() else { return false }
        return word == "COPY" || word == "ADD" || word == "WORKDIR"
    }

    /// The user or group name of a `--chown=NAME[:GROUP]` that is not numeric.
    static func chownName(_ createdBy: String?) -> String? {
        guard let words = instruction(createdBy), ["COPY", "ADD"].contains(words[0].uppercased()) else { return nil }
        for word in words.dropFirst() where word.lowercased().hasPrefix("--chown=") {
            let owner = word.dropFirst("--chown=".count).split(separator: ":")
            if let name = owner.first(where: { !$0.allSatisfy(\.isNumber) }) { return String(name) }
        }
        return nil
    }

    /// The instruction's words without a shell prefix or a `#(nop)` marker.
    private static func instruction(_ createdBy: String?) -> [String]? {
        guard var text = createdBy?.trimmingCharacters(in: .whitespaces) else { return nil }
        for prefix in ["/bin/sh -c ", "#(nop) "] where text.hasPrefix(prefix) {
            text = String(text.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
        }
        let words = text.split(whereSeparator: \.isWhitespace).map(String.init)
        return words.isEmpty ? nil : words
    }
}
