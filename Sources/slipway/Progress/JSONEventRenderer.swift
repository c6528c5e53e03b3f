import Foundation
import SlipwayKernel

/// `--progress json`: every event as one JSON object on one line of stderr, keys sorted, times
/// in ISO 8601 UTC with milliseconds (`Docs/Events.md`).
struct JSONEventRenderer: RunObserver {
    func observe(_ event: RunEvent) {
        guard let data = try? Self.encoder.encode(event) else { return }
        FileHandle.standardError.write(data + Data("\n".utf8))
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true)))
        }
        return encoder
    }()
}
