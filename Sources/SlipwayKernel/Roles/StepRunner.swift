/// Anything a pipeline step does: run a container, patch an image, notify, wait.
///
/// The host guarantees: `run` is called once per attempt, after every dependency finished; the
/// engine applies timeouts, retries, delays and `ignore_errors`; cancellation arrives as Swift
/// task cancellation. The plugin must: return promptly when cancelled, write user-visible
/// output only through `context.logger`, and read secrets only through `context.secret(_:)`.
public protocol StepRunner: Sendable {
    /// - Returns: what dependents can read as this step's result.
    /// - Throws: any error to fail the attempt; ``StepFailure`` to say why in user terms.
    func run(in context: StepContext) async throws -> StepOutput
}

/// A step's result, readable by dependents through `context.inputs`.
public struct StepOutput: Sendable, Hashable, Codable {
    public var fields: [String: ConfigValue]

    public init(_ fields: [String: ConfigValue] = [:]) { self.fields = fields }

    public static let empty = StepOutput()
}
