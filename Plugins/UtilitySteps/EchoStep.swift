import Logging
public import SlipwayKernel

/// `echo { message = "..." }`: writes a line to the run log. Handy for announcing results and
/// for trying the engine out; its message passes through secret masking like any other line.
public struct EchoStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        public var message: String
        /// Steps whose completion this one reports; only ordering, their outputs are not read.
        public var inputs: [StepID]?
    }

    public static let kind = "echo"
    public static let summary = "write a message to the run log"
    private let message: String

    public init(configuration: Configuration) throws { message = configuration.message }

    public func run(in context: StepContext) async throws -> StepOutput {
        context.logger.info("\(message)")
        return StepOutput(["message": .string(message)])
    }
}
