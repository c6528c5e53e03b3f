public import SlipwayKernel

/// `fail { message = "..." }`: fails with the message. A guard at the end of a branch (with
/// `after`) or a placeholder a pipeline must not reach.
public struct FailStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        public var message: String
        public var inputs: [StepID]?
    }

    public static let kind = "fail"
    public static let summary = "fail the step with a message"
    private let message: String

    public init(configuration: Configuration) throws { message = configuration.message }

    public func run(in context: StepContext) async throws -> StepOutput {
        throw StepFailure(step: context.stepID, message: message)
    }
}
