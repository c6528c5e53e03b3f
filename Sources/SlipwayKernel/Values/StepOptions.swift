/// The options every step accepts, whatever its kind. They mirror acr-task.yaml's step
/// properties and are applied by the engine, not by plugins.
public struct StepOptions: Sendable, Hashable, Codable {
    /// Maximum time for one attempt; the step is `timed_out` past it.
    public var timeout: DurationValue?
    /// Further attempts after a failed one.
    public var retries: Int = 0
    /// Wait between attempts.
    public var retryDelay: DurationValue?
    /// A failure of this step does not fail the run; dependents still run.
    public var ignoreErrors: Bool = false
    /// Wait before the first attempt.
    public var startDelay: DurationValue?
    /// Run the step this many extra times after it succeeds (ACR `repeat`).
    public var `repeat`: Int = 0
    /// Environment for the step (containers, commands).
    public var env: [String: String] = [:]
    /// Names of run secrets the step may read; their values are masked in every log line.
    public var secrets: [String] = []
    /// Keep running in the background; the run stops it at the end (containers).
    public var detach: Bool = false

    public init() {}

    enum CodingKeys: String, CodingKey, CaseIterable {
        case timeout, retries, retryDelay, ignoreErrors, startDelay, `repeat`, env, secrets, detach
    }

    /// The recipe (snake_case) names of the common option keys; plus `id` and `after`, which the
    /// loader handles itself.
    public static let recipeKeys: Set<String> = Set(CodingKeys.allCases.map { ConfigValueDecoder.snakeCase($0.rawValue) })
        .union(["id", "after"])

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        timeout = try c.decodeIfPresent(DurationValue.self, forKey: .timeout)
        retries = try c.decodeIfPresent(Int.self, forKey: .retries) ?? 0
        retryDelay = try c.decodeIfPresent(DurationValue.self, forKey: .retryDelay)
        ignoreErrors = try c.decodeIfPresent(Bool.self, forKey: .ignoreErrors) ?? false
        startDelay = try c.decodeIfPresent(DurationValue.self, forKey: .startDelay)
        `repeat` = try c.decodeIfPresent(Int.self, forKey: .repeat) ?? 0
        env = try c.decodeIfPresent([String: String].self, forKey: .env) ?? [:]
        secrets = try c.decodeIfPresent([String].self, forKey: .secrets) ?? []
        detach = try c.decodeIfPresent(Bool.self, forKey: .detach) ?? false
        if retries < 0 {
            throw ConfigurationError(path: [.key("retries")], message: "must be 0 or more, got \(retries)")
        }
        if `repeat` < 0 {
            throw ConfigurationError(path: [.key("repeat")], message: "must be 0 or more, got \(`repeat`)")
        }
    }
}
