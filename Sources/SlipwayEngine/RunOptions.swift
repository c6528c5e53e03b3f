public import SlipwayKernel

/// How a run is carried out.
public struct RunOptions: Sendable {
    /// Steps running at once, at most.
    public var maxConcurrency: Int
    /// Stop the run at the first failure that is not ignored, cancelling running steps. When
    /// false, independent branches go on and only dependents of the failed step are skipped.
    public var failFast: Bool
    /// Secret values by name; steps see only those they declare, and every log line is masked.
    public var secrets: [String: String]
    /// Shared by the run's steps. A temporary directory is made (and removed) when nil.
    public var workDirectory: String?
    /// Calls the recipe's `on_success` / `on_failure`.
    public var hooks: (any HookInvoker)?
    /// Who receives the run's events (lifecycle, log lines, progress), in order, already masked.
    public var observers: [any RunObserver]
    /// What start delays, retry delays and timeouts wait on (and steps through their context):
    /// the continuous clock, or a test's manual one.
    public var clock: any Clock<Duration>
    /// What steps get to work with through their context (content store, registry client…).
    public var services: HostServices

    public init(
        maxConcurrency: Int = 4, failFast: Bool = true, secrets: [String: String] = [:], workDirectory: String? = nil,
        hooks: (any HookInvoker)? = nil, observers: [any RunObserver] = [], clock: any Clock<Duration> = ContinuousClock(),
        services: HostServices = HostServices()
    ) {
        self.maxConcurrency = max(1, maxConcurrency)
        self.failFast = failFast
        self.secrets = secrets
        self.workDirectory = workDirectory
        self.hooks = hooks
        self.observers = observers
        self.clock = clock
        self.services = services
    }
}
