public import Foundation
public import SlipwayKernel
public import SlipwayStore

/// The JSON the server's API speaks, shared with the CLI that calls it (Docs/OperatorGuide.md).
public enum API {
    /// `POST /api/v1/tasks`, `PUT /api/v1/tasks/{name}`.
    public struct TaskInput: Codable, Sendable {
        /// The task's text: a Lua recipe returning `task { … }`, or an acr-task.yaml.
        public var text: String
        /// `lua` (the default) or `acr-task.yaml`.
        public var format: String?
        public var values: ConfigValue?
        /// An acr-task.yaml's name (a Lua recipe names its task itself).
        public var name: String?
        /// An acr-task.yaml's source and triggers (``ACRTaskSettings``, snake_case keys).
        public var settings: ConfigValue?
        /// Replace a task of the same name (POST refuses it otherwise).
        public var replace: Bool?

        public init(
            text: String, format: String? = nil, values: ConfigValue? = nil, name: String? = nil, settings: ConfigValue? = nil, replace: Bool? = nil
        ) {
            self.text = text
            self.format = format
            self.values = values
            self.name = name
            self.settings = settings
            self.replace = replace
        }
    }

    public struct TriggerView: Codable, Sendable {
        public var kind: String
        public var configuration: ConfigValue
        public var filter: Bool
        /// Where it is written (`task:NAME.lua:LINE`).
        public var location: String
    }

    public struct TaskView: Codable, Sendable {
        public var name: String
        public var format: String
        public var enabled: Bool
        public var created: Date
        public var updated: Date
        public var triggers: [TriggerView]
        /// Why the stored recipe no longer evaluates, if it does not.
        public var error: String?
        public var text: String?
        public var values: ConfigValue?
        public var settings: ConfigValue?
        /// Its latest trigger decisions, newest first (`GET /api/v1/tasks/{name}` only).
        public var deliveries: [TriggerDelivery]?
    }

    /// `POST /api/v1/tasks/{name}/runs`.
    public struct RunInput: Codable, Sendable {
        public var values: ConfigValue?

        public init(values: ConfigValue? = nil) { self.values = values }
    }

    /// What a run request became.
    public struct Accepted: Codable, Sendable {
        public var id: String
        /// Set when an equal request (same task and key) already made this run.
        public var duplicate: Bool
    }

    public struct RunView: Codable, Sendable {
        public var run: RunRecord
        public var steps: [StepRecord]
        /// What asked for it (trigger facts, values); nil for a run of `slipway run`.
        public var request: RunRequest?
    }

    /// `GET /api/v1/deps`: the latest image of each task and what it was built on.
    public struct Dependencies: Codable, Sendable {
        public var images: [ImageRecord]
    }

    /// `POST /hooks/...` answers.
    public struct HookAnswer: Codable, Sendable {
        public var result: String
        public var runs: [String]
    }
}

extension API {
    /// Dates as ISO 8601 with milliseconds, in UTC, both ways.
    public static func encoder(pretty: Bool = false) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(dateStyle))
        }
        return encoder
    }

    public static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            if let date = try? dateStyle.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 time")
        }
        return decoder
    }

    static let dateStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
