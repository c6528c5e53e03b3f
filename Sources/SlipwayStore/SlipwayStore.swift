public import Foundation
public import SlipwayKernel

/// Slipway's durable state behind one protocol: runs with their steps, events and log lines,
/// stored tasks, trigger cursors and deliveries, and the image dependency graph. SQLite
/// (``SQLiteStore``) is the default; a PostgreSQL store for many hosts implements the same
/// protocol and must pass the same contract suite (`Tests/SlipwayStoreTests`).
///
/// What reaches the store is what the run's event stream emits: already masked, so a secret is
/// never written in clear.
public protocol SlipwayStore: Sendable {
    // MARK: Runs

    /// Appends events of runs, in one transaction, and updates the runs' and steps' records
    /// from them. Events of one run arrive in sequence order; one already stored (same run and
    /// sequence) is ignored, so a redelivery cannot double a run. Progress events are live only
    /// and not stored.
    func append(_ events: [RunEvent]) async throws
    func run(_ id: String) async throws -> RunRecord?
    /// Newest first.
    func runs(_ query: RunQuery) async throws -> [RunRecord]
    /// In pipeline order (the order the steps were queued).
    func steps(ofRun id: String) async throws -> [StepRecord]
    /// The run's events after `sequence` (0: all), in order.
    func events(ofRun id: String, after sequence: Int) async throws -> [RunEvent]

    // MARK: The run queue

    /// Stores requests for runs, in one transaction, before anyone is told they were accepted,
    /// so a restart finds them. A request with a `dedupeKey` is refused while a run of the same
    /// task with the same key is queued, running or succeeded (one run per commit, per base
    /// digest). - Returns: one outcome per request, in order.
    func queue(_ requests: [RunRequest]) async throws -> [QueueOutcome]
    func request(ofRun id: String) async throws -> RunRequest?
    /// Requests whose run has not started, oldest first.
    func pendingRequests() async throws -> [RunRequest]
    /// Requests whose run started and never finished: their server stopped under them.
    func unfinishedRequests() async throws -> [RunRequest]
    /// Marks a run that will never finish (``RunStatus/interrupted``), or one that was canceled
    /// before it started (``RunStatus/canceled``). A finished run is left as it is.
    func close(run id: String, status: RunStatus, message: String, at time: Date) async throws

    // MARK: Tasks

    /// Creates or replaces the task with this name.
    func save(_ task: TaskRecord) async throws
    func task(named name: String) async throws -> TaskRecord?
    func tasks() async throws -> [TaskRecord]
    /// - Returns: whether there was such a task.
    func deleteTask(named name: String) async throws -> Bool

    // MARK: Triggers

    func cursor(trigger: String, key: String) async throws -> String?
    /// Every cursor of a trigger kind, by key.
    func cursors(trigger: String) async throws -> [String: String]
    /// Sets cursors of a trigger kind, in one transaction.
    func setCursors(_ values: [String: String], trigger: String) async throws
    /// Records a delivery (a webhook's delivery id, a registry notification's id).
    /// - Returns: false when this delivery was recorded before: it must not start a second run.
    func recordDelivery(_ delivery: TriggerDelivery) async throws -> Bool
    /// Records decisions (one transaction); a delivery id recorded before is left as it was.
    func recordDeliveries(_ deliveries: [TriggerDelivery]) async throws
    /// Recorded deliveries and trigger decisions (vetoes, cycles), newest first.
    func deliveries(task: String?, limit: Int) async throws -> [TriggerDelivery]

    // MARK: Image dependency graph

    /// Records what a task's run produced: the image and the bases it was built on.
    func recordImage(_ image: ImageRecord) async throws
    /// The latest image each task produced that has `reference` among its bases.
    func dependents(ofBase reference: String, scope: BaseScope) async throws -> [ImageRecord]
    /// The bases of the task's last recorded image.
    func latestImage(ofTask task: String) async throws -> ImageRecord?
    /// Each task's last recorded image, by task: the whole graph in one read.
    func latestImages() async throws -> [String: ImageRecord]
    /// The latest record of the image with manifest digest `digest`, whichever task built it.
    func image(digest: String) async throws -> ImageRecord?
}

extension SlipwayStore {
    public func queue(_ request: RunRequest) async throws -> QueueOutcome {
        try await queue([request])[0]
    }

    public func setCursor(_ value: String, trigger: String, key: String) async throws {
        try await setCursors([key: value], trigger: trigger)
    }
}

/// One run, as its lifecycle events left it.
public struct RunRecord: Sendable, Hashable, Codable {
    public var id: String
    public var pipeline: String?
    public var task: String?
    /// What started it (`manual`, `commit`, `base_image`...); nil for a run of `slipway run`.
    public var trigger: String?
    public var status: RunStatus
    public var queued: Date
    public var started: Date?
    public var finished: Date?
    public var error: String?

    public init(
        id: String, pipeline: String?, task: String?, trigger: String? = nil, status: RunStatus, queued: Date, started: Date? = nil,
        finished: Date? = nil, error: String? = nil
    ) {
        self.id = id
        self.pipeline = pipeline
        self.task = task
        self.trigger = trigger
        self.status = status
        self.queued = queued
        self.started = started
        self.finished = finished
        self.error = error
    }
}

/// A run asked for (by a trigger, a webhook, a person), stored before it is answered.
public struct RunRequest: Sendable, Hashable, Codable {
    public var id: String
    public var task: String
    /// What asked: `manual`, `commit`, `pull_request`, `base_image`, `schedule`.
    public var trigger: String
    /// The event's facts, which become run variables (`commit`, `base_digest`...).
    public var facts: [String: String]
    /// Values on top of the task's own (`task run --set`).
    public var values: ConfigValue
    /// What makes two requests the same run (`commit:SHA`, `base:REF@DIGEST`); nil: never.
    public var dedupeKey: String?
    /// 2 for the retry of a run its server's stop interrupted.
    public var attempt: Int
    public var queued: Date

    public init(
        id: String, task: String, trigger: String, facts: [String: String] = [:], values: ConfigValue = .object([:]), dedupeKey: String? = nil,
        attempt: Int = 1, queued: Date = Date()
    ) {
        self.id = id
        self.task = task
        self.trigger = trigger
        self.facts = facts
        self.values = values
        self.dedupeKey = dedupeKey
        self.attempt = attempt
        self.queued = queued
    }
}

/// What became of a ``RunRequest``.
public enum QueueOutcome: Sendable, Hashable {
    case queued(String)
    /// The run with the same task and key that is queued, running or succeeded.
    case duplicate(of: String)
}

/// Which runs to list.
public struct RunQuery: Sendable, Hashable {
    public var task: String?
    public var status: RunStatus?
    public var limit: Int

    public init(task: String? = nil, status: RunStatus? = nil, limit: Int = 100) {
        self.task = task
        self.status = status
        self.limit = limit
    }
}

/// One step of a run.
public struct StepRecord: Sendable, Hashable, Codable {
    public var run: String
    public var step: StepID
    public var kind: String?
    public var status: RunStatus
    public var attempts: Int
    public var exitCode: Int32?
    public var error: String?
    public var outputs: [String: ConfigValue]?
    public var started: Date?
    public var finished: Date?
}

/// A stored task: the recipe's text and values, re-evaluated in a fresh sandbox for every run.
public struct TaskRecord: Sendable, Hashable, Codable {
    public var name: String
    /// `lua` or `acr-task.yaml`.
    public var format: String
    public var text: String
    public var values: ConfigValue
    /// What the text cannot say and the command line gave: an acr-task.yaml's source and
    /// triggers (`az acr task create --context … --commit-trigger-enabled …`).
    public var settings: ConfigValue?
    public var enabled: Bool
    public var created: Date
    public var updated: Date

    public init(
        name: String, format: String, text: String, values: ConfigValue = .object([:]), settings: ConfigValue? = nil, enabled: Bool = true,
        created: Date, updated: Date
    ) {
        self.name = name
        self.format = format
        self.text = text
        self.values = values
        self.settings = settings
        self.enabled = enabled
        self.created = created
        self.updated = updated
    }
}

/// A trigger event received once: a webhook delivery, a registry notification.
public struct TriggerDelivery: Sendable, Hashable, Codable {
    public var trigger: String
    public var id: String
    public var task: String?
    public var received: Date
    /// What the event said, for the run record (a commit sha, a base digest).
    public var summary: String

    public init(trigger: String, id: String, task: String?, received: Date, summary: String) {
        self.trigger = trigger
        self.id = id
        self.task = task
        self.received = received
        self.summary = summary
    }
}

/// An image a task's run produced, with the bases it was built on.
public struct ImageRecord: Sendable, Hashable, Codable {
    public var task: String
    public var run: String
    public var reference: String?
    public var digest: String
    public var platform: String
    public var runtimeBase: BaseImage?
    public var buildTimeBases: [BaseImage]
    /// Each layer's origin, bottom first (the build report's): what proves a rebase safe.
    public var layers: [LayerOrigin]?
    /// Every tag the image was given (`reference` is the first).
    public var tags: [String]
    public var recorded: Date

    public init(
        task: String, run: String, reference: String?, digest: String, platform: String, runtimeBase: BaseImage?, buildTimeBases: [BaseImage],
        layers: [LayerOrigin]? = nil, tags: [String] = [], recorded: Date
    ) {
        self.task = task
        self.run = run
        self.reference = reference
        self.digest = digest
        self.platform = platform
        self.runtimeBase = runtimeBase
        self.buildTimeBases = buildTimeBases
        self.layers = layers
        self.tags = tags
        self.recorded = recorded
    }
}

/// Which bases of an image count: its runtime base only, or build-time bases too.
public enum BaseScope: String, Sendable, Hashable, Codable, CaseIterable {
    case runtime, all
}
