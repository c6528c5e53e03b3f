import Foundation
public import Logging
public import SlipwayEngine
public import SlipwayKernel
import SlipwayLua
public import Triggers
public import SlipwayOCI
public import SlipwayStore

/// Watches the world for every enabled task and queues runs: commits (one `git ls-remote` per
/// distinct remote and branch however many tasks watch it), schedules, and base images (polled
/// with one HEAD per distinct base, and checked at once on a hint: a registry notification or
/// a push by one of Slipway's own runs, which is how os → runtime → app cascades).
///
/// A trigger's first check only sets its starting point; runs start for what happens after.
/// Every decision — queued, duplicate, vetoed by a filter, a dependency cycle — is recorded as
/// a trigger delivery of the task.
public actor TriggerSupervisor {
    public struct Configuration: Sendable {
        /// How often commit triggers poll their remotes.
        public var commitInterval: Duration
        /// How often base images are polled (notifications and Slipway's own pushes do not wait).
        public var baseInterval: Duration
        /// Hints for one reference within this window are checked once.
        public var debounce: Duration
        /// How often schedules are looked at and tasks reloaded.
        public var tick: Duration

        public init(
            commitInterval: Duration = .seconds(60), baseInterval: Duration = .seconds(300), debounce: Duration = .milliseconds(200),
            tick: Duration = .seconds(1)
        ) {
            self.commitInterval = commitInterval
            self.baseInterval = baseInterval
            self.debounce = debounce
            self.tick = tick
        }
    }

    /// One enabled task as its recipe last evaluated.
    struct LoadedTask {
        var updated: Date
        /// A Lua task's sandbox, for its filters.
        var session: RecipeSession?
        var triggers: [(definition: TriggerDefinition, trigger: any Trigger)]
    }

    private let store: any SlipwayStore
    private let evaluator: TaskEvaluator
    private let dispatcher: RunDispatcher
    private let registryClient: RegistryClient
    private let configuration: Configuration
    private let logger: Logger
    private var tasks: [String: LoadedTask] = [:]
    /// Tasks whose recipe failed to evaluate, with when (so the error is logged once per change).
    private var broken: [String: Date] = [:]
    private var lastCommitPoll: ContinuousClock.Instant?
    private var lastBasePoll: ContinuousClock.Instant?
    private var pendingHints: Set<String> = []
    private var hintFlush: Task<Void, Never>?
    /// Registry requests of the last base check, for measurements.
    public private(set) var lastBaseCheckRequests = 0

    public init(
        store: any SlipwayStore, evaluator: TaskEvaluator, dispatcher: RunDispatcher, registryClient: RegistryClient, configuration: Configuration,
        logger: Logger
    ) {
        self.store = store
        self.evaluator = evaluator
        self.dispatcher = dispatcher
        self.registryClient = registryClient
        self.configuration = configuration
        self.logger = logger
    }

    /// Checks triggers until the task is canceled.
    public func run() async {
        let clock = ContinuousClock()
        while !Task.isCancelled {
            await cycle(now: clock.now)
            try? await Task.sleep(for: configuration.tick)
        }
        hintFlush?.cancel()
    }

    /// One pass: reload tasks, then whatever is due.
    func cycle(now: ContinuousClock.Instant) async {
        await reload()
        await checkSchedules()
        if lastCommitPoll.map({ now - $0 >= configuration.commitInterval }) ?? true {
            lastCommitPoll = now
            await pollCommits()
        }
        if lastBasePoll.map({ now - $0 >= configuration.baseInterval }) ?? true {
            lastBasePoll = now
            await checkBases(of: tasks.keys.sorted())
        }
    }

    // MARK: Tasks

    /// Re-evaluates the tasks that changed since the last pass; drops removed and disabled ones.
    func reload() async {
        let records: [TaskRecord]
        do {
            records = try await store.tasks()
        } catch {
            logger.error("cannot read tasks: \(error)")
            return
        }
        let enabled = records.filter(\.enabled)
        let names = Set(enabled.map(\.name))
        let before = tasks.count
        var changed = false
        defer { if changed || tasks.count != before { logger.info("watching the triggers of \(tasks.count) task(s)") } }
        tasks = tasks.filter { names.contains($0.key) }
        for record in enabled where tasks[record.name]?.updated != record.updated && broken[record.name] != record.updated {
            changed = true
            do {
                tasks[record.name] = try load(record)
                broken[record.name] = nil
            } catch {
                tasks[record.name] = nil
                broken[record.name] = record.updated
                logger.error("task \(record.name): its triggers are not watched: \(error)")
            }
        }
    }

    private func load(_ record: TaskRecord) throws -> LoadedTask {
        let info = RunInfo(id: "triggers-\(record.name)", trigger: "check", values: record.values)
        let task = try evaluator.evaluate(record, run: info)
        let triggers = try task.triggers.map { definition -> (TriggerDefinition, any Trigger) in
            let plugin = try evaluator.registry.instantiate(definition.kind, configuration: definition.configuration)
            guard let trigger = plugin as? any Trigger else {
                throw ServerError(.invalidInput, "\(definition.location): '\(definition.kind)' is not a trigger")
            }
            return (definition, trigger)
        }
        return LoadedTask(updated: record.updated, session: task.session, triggers: triggers)
    }

    /// The triggers of kind `kind`, with their task and position (the cursor's key).
    private func triggers(ofKind kind: String) -> [(task: String, index: Int, trigger: any Trigger, definition: TriggerDefinition)] {
        tasks.keys.sorted().flatMap { name in
            tasks[name]!.triggers.enumerated().filter { $0.element.definition.kind == kind }
                .map { (name, $0.offset, $0.element.trigger, $0.element.definition) }
        }
    }

    private func context(for task: String, services: HostServices = HostServices()) -> StepContext {
        StepContext(runID: "triggers", stepID: StepID("trigger"), logger: logger, workDirectory: NSTemporaryDirectory(), services: services)
    }

    // MARK: Commits and schedules

    /// One `git ls-remote` per distinct remote and branch; each task compares with its cursor.
    func pollCommits() async {
        let watching = triggers(ofKind: "commit")
        let groups = Dictionary(grouping: watching) { "\($0.definition.configuration["url"].map { "\($0)" } ?? "")#\($0.definition.configuration["branch"].map { "\($0)" } ?? "")" }
        for (_, group) in groups.sorted(by: { $0.key < $1.key }) {
            let head: TriggerEvent
            do {
                guard let found = try await group[0].trigger.check(after: nil, in: context(for: group[0].task)).first else { continue }
                head = found
            } catch {
                logger.warning("task \(group.map(\.task).joined(separator: ", ")): commit check failed: \(error)")
                continue
            }
            for watcher in group {
                await advance(task: watcher.task, index: watcher.index, kind: "commit", to: head)
            }
        }
    }

    func checkSchedules() async {
        for watcher in triggers(ofKind: "schedule") {
            do {
                let after = try await cursor(task: watcher.task, index: watcher.index, kind: "schedule")
                for event in try await watcher.trigger.check(after: after, in: context(for: watcher.task)) {
                    await advance(task: watcher.task, index: watcher.index, kind: "schedule", to: event)
                }
            } catch {
                logger.warning("task \(watcher.task): schedule check failed: \(error)")
            }
        }
    }

    /// Moves the trigger's cursor to `event` and queues a run for it, unless this is the
    /// trigger's first check (its starting point) or the cursor is there already.
    private func advance(task: String, index: Int, kind: String, to event: TriggerEvent) async {
        do {
            let current = try await cursor(task: task, index: index, kind: kind)
            guard current != event.version else { return }
            try await setCursor(event.version, task: task, index: index, kind: kind)
            guard current != nil else {
                logger.info("task \(task): \(kind) trigger starts at \(event.version)")
                return
            }
            await deliver(event, task: task, index: index)
        } catch {
            logger.error("task \(task): \(kind) trigger: \(error)")
        }
    }

    private func cursorKey(_ task: String, _ index: Int) -> String { "\(task)/\(index)" }

    private func cursor(task: String, index: Int, kind: String) async throws -> Version? {
        guard let text = try await store.cursor(trigger: kind, key: cursorKey(task, index)) else { return nil }
        return try JSONDecoder().decode(Version.self, from: Data(text.utf8))
    }

    private func setCursor(_ version: Version, task: String, index: Int, kind: String) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        try await store.setCursor(String(decoding: try encoder.encode(version), as: UTF8.self), trigger: kind, key: cursorKey(task, index))
    }

    // MARK: Delivering an event

    /// One event for one task's trigger (`index` nil: not from a declared trigger).
    public struct Delivery: Sendable {
        public var event: TriggerEvent
        public var task: String
        public var index: Int?
        public var deliveryID: String?
    }

    /// Queues a run of `task` for `event` unless the trigger's filter vetoes it; records what
    /// was decided.
    /// - Returns: the run's id (new, or the one this event duplicates), nil when vetoed.
    @discardableResult
    public func deliver(_ event: TriggerEvent, task: String, index: Int?, deliveryID: String? = nil) async -> String? {
        await deliver([Delivery(event: event, task: task, index: index, deliveryID: deliveryID)])[0]
    }

    /// ``deliver(_:task:index:deliveryID:)`` for many events at once: one transaction queues
    /// the runs and one records the decisions, however many tasks a base change reaches.
    @discardableResult
    public func deliver(_ deliveries: [Delivery]) async -> [String?] {
        var decisions: [TriggerDelivery] = []
        func decision(_ delivery: Delivery, _ text: String) -> TriggerDelivery {
            TriggerDelivery(
                trigger: delivery.event.type, id: delivery.deliveryID.map { "\($0)/decision" } ?? UUID().uuidString, task: delivery.task,
                received: Date(), summary: "\(Self.summary(of: delivery.event)): \(text)")
        }
        var admitted: [(position: Int, request: RunRequest)] = []
        var results = [String?](repeating: nil, count: deliveries.count)
        for (position, delivery) in deliveries.enumerated() {
            if let index = delivery.index, let loaded = tasks[delivery.task], let filter = loaded.triggers[index].definition.filter,
                let session = loaded.session
            {
                do {
                    let verdict = try await session.invoke(filter, arguments: [Self.value(of: delivery.event)])
                    if verdict.value == .bool(false) || verdict.value == .null {
                        logger.info("task \(delivery.task): \(delivery.event.type) event vetoed by its filter (\(Self.summary(of: delivery.event)))")
                        decisions.append(decision(delivery, "vetoed by the trigger's filter"))
                        continue
                    }
                } catch {
                    logger.error("task \(delivery.task): the \(delivery.event.type) trigger's filter failed; the event is dropped: \(error)")
                    decisions.append(decision(delivery, "dropped: the filter failed: \(error)"))
                    continue
                }
            }
            admitted.append((position, RunRequest(
                id: RunID.make(), task: delivery.task, trigger: delivery.event.type, facts: delivery.event.facts,
                dedupeKey: "\(delivery.event.type):\(delivery.event.version)")))
        }
        do {
            let outcomes = try await dispatcher.submit(admitted.map(\.request))
            for ((position, _), outcome) in zip(admitted, outcomes) {
                switch outcome {
                case .queued(let id):
                    decisions.append(decision(deliveries[position], "queued run \(id)"))
                    results[position] = id
                case .duplicate(let existing):
                    decisions.append(decision(deliveries[position], "already run as \(existing)"))
                    results[position] = existing
                }
            }
        } catch {
            logger.error("cannot queue runs for \(admitted.count) trigger event(s): \(error)")
            for (position, _) in admitted { decisions.append(decision(deliveries[position], "not queued: \(error)")) }
        }
        do {
            try await store.recordDeliveries(decisions)
        } catch {
            logger.error("cannot record trigger decisions: \(error)")
        }
        return results
    }

    static func summary(of event: TriggerEvent) -> String {
        event.facts.keys.sorted().map { "\($0)=\(event.facts[$0]!)" }.joined(separator: " ")
    }

    /// The event as a filter sees it: `{ type = …, version = {…}, <facts> }`.
    static func value(of event: TriggerEvent) -> ConfigValue {
        var fields = event.facts.mapValues { ConfigValue.string($0) }
        fields["type"] = .string(event.type)
        fields["version"] = .object(event.version.fields.mapValues { .string($0) })
        return .object(fields)
    }

    // MARK: Webhooks

    /// A verified Git delivery for `task`: a push to a branch its `commit` triggers watch, or a
    /// pull request its `pull_request` trigger takes. The run builds the delivered sha.
    /// - Returns: the runs queued (or already made for the same sha).
    public func webhook(_ hook: GitWebhook, task: String) async throws -> [String] {
        await reload()
        guard let loaded = tasks[task] else { throw ServerError(.conflict, "task '\(task)' is disabled or its recipe does not evaluate") }
        var runs: [String] = []
        for (index, entry) in loaded.triggers.enumerated() {
            let event: TriggerEvent
            switch (hook.kind, entry.trigger) {
            case (.push(let branch), let commit as CommitTrigger):
                if let watched = commit.branch {
                    guard watched == branch else { continue }
                } else {
                    // No branch: the remote's default one, which is the branch whose head is this sha now.
                    guard (try? await commit.check(after: nil, in: context(for: task)).first?.version.fields["sha"]) == hook.sha else { continue }
                }
                event = TriggerEvent(
                    type: "commit", version: Version(["sha": hook.sha]),
                    facts: ["commit": hook.sha, "branch": branch, "ref": "refs/heads/\(branch)", "delivery": hook.deliveryID])
                try await setCursor(event.version, task: task, index: index, kind: "commit")
            case (.pullRequest(let number, let target), let pull as PullRequestTrigger):
                if let watched = pull.branch, watched != target { continue }
                var facts = ["commit": hook.sha, "pull_request": String(number), "ref": "pull/\(number)/head", "delivery": hook.deliveryID]
                if let target { facts["branch"] = target }
                event = TriggerEvent(type: "pull_request", version: Version(["number": String(number), "sha": hook.sha]), facts: facts)
            default:
                continue
            }
            if let run = await deliver(event, task: task, index: index, deliveryID: hook.deliveryID) { runs.append(run) }
        }
        return runs
    }

    // MARK: Base images

    /// Base references that may name something new (a registry notification, a push of one of
    /// Slipway's runs). Hints within the debounce window are checked together, once.
    public func hint(_ references: [String]) {
        let normalized = references.compactMap { try? ImageReference(parsing: $0).description }
        guard !normalized.isEmpty else { return }
        pendingHints.formUnion(normalized)
        guard hintFlush == nil else { return }
        hintFlush = Task { [debounce = configuration.debounce] in
            try? await Task.sleep(for: debounce)
            await self.flushHints()
        }
    }

    private func flushHints() async {
        let references = pendingHints.sorted()
        pendingHints = []
        hintFlush = nil
        // A task made a moment ago must be watched already (the tick may not have loaded it).
        await reload()
        let started = ContinuousClock.now
        defer { logger.debug("hints for \(references.count) reference(s) handled in \(ContinuousClock.now - started)") }
        var affected: Set<String> = []
        for reference in references {
            do {
                for image in try await store.dependents(ofBase: reference, scope: .all) { affected.insert(image.task) }
            } catch {
                logger.error("cannot read the dependents of \(reference): \(error)")
            }
        }
        if !affected.isEmpty {
            let names = affected.sorted()
            let shown = names.count > 5 ? names.prefix(5).joined(separator: ", ") + " and \(names.count - 5) more" : names.joined(separator: ", ")
            logger.info("base change hinted for \(references.joined(separator: ", ")): checking \(shown)")
        }
        await checkBases(of: affected.sorted())
    }

    /// Checks the base_image triggers of `names` against the registry, sharing one resolver:
    /// one read of the graph, one HEAD per distinct base, one write of the cursors, one of the
    /// runs queued.
    func checkBases(of names: [String]) async {
        let wanted = Set(names)
        let watchers = triggers(ofKind: "base_image").filter { wanted.contains($0.task) }
        guard !watchers.isEmpty else { return }
        let resolver = BaseDigestResolver(client: registryClient)
        let started = ContinuousClock.now
        await checkBases(watchers, resolver: resolver)
        lastBaseCheckRequests = await resolver.requests
        logger.debug("base check: \(watchers.count) task(s), \(lastBaseCheckRequests) registry request(s), \(ContinuousClock.now - started)")
    }

    private func checkBases(
        _ watchers: [(task: String, index: Int, trigger: any Trigger, definition: TriggerDefinition)], resolver: BaseDigestResolver
    ) async {
        let images: [String: ImageRecord]
        let cursors: [String: String]
        do {
            images = try await store.latestImages()
            cursors = try await store.cursors(trigger: "base_image")
        } catch {
            logger.error("cannot read the dependency graph: \(error)")
            return
        }
        // Each task's check waits mostly on the registry; they run together, bounded.
        let found = await withTaskGroup(of: (Int, [TriggerEvent]).self) { group in
            var results: [(Int, [TriggerEvent])] = []
            var next = 0
            func add() {
                guard next < watchers.count else { return }
                let position = next
                next += 1
                let watcher = watchers[position]
                guard let image = images[watcher.task] else { return add() }
                var services = HostServices()
                services[BaseImageWatchService.self] = BaseImageWatch(
                    runtimeBase: image.runtimeBase, buildTimeBases: image.buildTimeBases, platform: image.platform,
                    currentDigest: { reference, platform in try await resolver.digest(of: reference, platform: platform) })
                let after = cursors[cursorKey(watcher.task, watcher.index)].flatMap { try? JSONDecoder().decode(Version.self, from: Data($0.utf8)) }
                let context = context(for: watcher.task, services: services)
                let logger = logger
                group.addTask {
                    do {
                        return (position, try await watcher.trigger.check(after: after, in: context))
                    } catch {
                        logger.warning("task \(watcher.task): base image check failed: \(error)")
                        return (position, [])
                    }
                }
            }
            for _ in 0..<16 { add() }
            while let result = await group.next() {
                results.append(result)
                add()
            }
            return results.sorted { $0.0 < $1.0 }.flatMap { position, events in events.map { (watchers[position], $0) } }
        }
        guard !found.isEmpty else { return }
        var moved: [String: String] = [:]
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        for (watcher, event) in found {
            moved[cursorKey(watcher.task, watcher.index)] = (try? encoder.encode(event.version)).map { String(decoding: $0, as: UTF8.self) }
        }
        var deliveries: [Delivery] = []
        var cycles: [TriggerDelivery] = []
        let graph = ImageGraph(images)
        for (watcher, event) in found {
            if let cycle = graph.cycle(through: watcher.task) {
                let path = cycle.joined(separator: " → ")
                logger.error("task \(watcher.task): not rebuilt: its images form a dependency cycle (\(path))")
                cycles.append(TriggerDelivery(
                    trigger: "base_image", id: UUID().uuidString, task: watcher.task, received: Date(),
                    summary: "\(Self.summary(of: event)): not run: dependency cycle \(path)"))
            } else {
                deliveries.append(Delivery(event: event, task: watcher.task, index: watcher.index))
            }
        }
        do {
            try await store.setCursors(moved, trigger: "base_image")
            try await store.recordDeliveries(cycles)
        } catch {
            logger.error("cannot record base image checks: \(error)")
        }
        await deliver(deliveries)
    }

    /// A path of tasks from `start` back to itself through the images they build on, if any.
    func cycle(through start: String) async throws -> [String]? {
        ImageGraph(try await store.latestImages()).cycle(through: start)
    }

    /// A run ended: what it pushed may be a base of other tasks.
    public func runFinished(_ report: RunReport) {
        guard report.status == .succeeded else { return }
        var pushed: [String] = []
        for step in report.steps {
            guard case .array(let items)? = step.output?.fields["pushed"] else { continue }
            pushed += items.compactMap { if case .string(let text) = $0 { text } else { nil } }
        }
        hint(pushed)
    }
}
