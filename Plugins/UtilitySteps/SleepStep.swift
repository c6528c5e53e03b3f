public import SlipwayKernel

/// `sleep { duration = "30s" }`: waits on the run's clock, honouring cancellation. Useful between a service start
/// and its tests, or to pace a `repeat`.
public struct SleepStep: PluginKind, StepRunner {
    public struct Configuration: Decodable, Sendable {
        public var duration: DurationValue
    }

    public static let kind = "sleep"
    public static let summary = "wait for a duration"
    private let duration: Duration

    public init(configuration: Configuration) throws { duration = configuration.duration.duration }

    public func run(in context: StepContext) async throws -> StepOutput {
        try await context.clock.sleep(for: duration)
        return .empty
    }
}
