public import Logging

/// Everything a plugin call may use, passed in and never global: a logger bound to the run and
/// step (its output is the masked run log), the work directory, the declared secrets, a
/// progress sink, the results of dependencies, a clock, and the host's services. Cancellation is Swift task
/// cancellation.
public struct StepContext: Sendable {
    public var runID: String
    public var stepID: StepID
    /// Which attempt this is (1 = first), counting retries and repeats.
    public var attempt: Int
    /// Writes to the run log; every line is masked for secrets before anyone sees it.
    public var logger: Logger
    /// A directory owned by the run, shared by its steps.
    public var workDirectory: String
    /// Results of the steps this one depends on.
    public var inputs: [StepID: StepOutput]
    /// The step's `env = { ... }` (only steps that are ``EnvironmentConsumer``s get one).
    public var environment: [String: String]
    public var progress: any ProgressSink
    /// What the host gives the step to work with (content store, registry client, build epoch).
    public var services: HostServices
    /// What the step waits on: the run's clock (a test's manual one in engine tests).
    public var clock: any Clock<Duration>
    /// Whether the step was asked to run detached (``DetachableStep``): start, register the stop
    /// with ``resources``, and return while the thing it started goes on running.
    public var detach: Bool
    /// What outlives this step but not the run (services, the run network), released by the
    /// engine when the run ends.
    public var resources: RunResources
    private let secrets: [String: String]

    public init(
        runID: String, stepID: StepID, attempt: Int = 1, logger: Logger, workDirectory: String,
        inputs: [StepID: StepOutput] = [:], environment: [String: String] = [:], secrets: [String: String] = [:],
        progress: any ProgressSink = DiscardingProgressSink(), clock: any Clock<Duration> = ContinuousClock(),
        services: HostServices = HostServices(), detach: Bool = false, resources: RunResources = RunResources()
    ) {
        self.runID = runID
        self.stepID = stepID
        self.attempt = attempt
        self.logger = logger
        self.workDirectory = workDirectory
        self.inputs = inputs
        self.environment = environment
        self.secrets = secrets
        self.progress = progress
        self.clock = clock
        self.services = services
        self.detach = detach
        self.resources = resources
    }

    /// The names of the secrets the step declared (and the run was given).
    public var declaredSecrets: [String] { secrets.keys.sorted() }

    /// A secret the step declared in `secrets = {...}`.
    /// - Throws: ``StepFailure`` when the step did not declare it or the run has no such secret.
    public func secret(_ name: String) throws -> String {
        guard let value = secrets[name] else {
            throw StepFailure(
                step: stepID, message: "secret '\(name)' is not available: declare it in the step's secrets = {...} and pass it with --secret")
        }
        return value
    }
}

/// Receives progress of long operations (pulls, pushes, builds), for display on a terminal.
public protocol ProgressSink: Sendable {
    func report(_ progress: StepProgress)
}

public struct StepProgress: Sendable, Hashable {
    public var step: StepID
    public var label: String
    public var completed: Int64
    public var total: Int64?

    public init(step: StepID, label: String, completed: Int64, total: Int64?) {
        self.step = step
        self.label = label
        self.completed = completed
        self.total = total
    }
}

public struct DiscardingProgressSink: ProgressSink {
    public init() {}
    public func report(_ progress: StepProgress) {}
}
