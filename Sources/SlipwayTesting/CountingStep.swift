import Logging
public import SlipwayKernel
import Synchronization

/// A scripted step for engine tests: `test.step { name = "a", fail_times = 1, sleep_ms = 20,
/// log = "...", wait_for = "barrier" }`. Every call is recorded in ``StepRecorder/shared`` by
/// name, so tests assert on counts and order instead of wall-clock time. It takes `env`, and
/// returns it among its outputs.
public struct CountingStep: PluginKind, EnvironmentConsumer {
    public struct Configuration: Decodable, Sendable {
        /// The key calls are recorded under (defaults to the step id).
        public var name: String?
        /// Fail this many attempts before succeeding (-1: always fail).
        public var failTimes: Int?
        /// Exit code reported with failures.
        public var exitCode: Int32?
        /// Sleep this long in each attempt (honours cancellation).
        public var sleepMs: Int?
        /// Never return until cancelled.
        public var hang: Bool?
        /// Log this line (secrets included, to test masking).
        public var log: String?
        /// Log the value of this secret.
        public var logSecret: String?
        /// Wait until this many participants reach the named rendezvous: proves overlap.
        public var rendezvous: String?
        public var participants: Int?
        public var inputs: [StepID]?
    }

    public static let kind = "test.step"
    private let configuration: Configuration

    public init(configuration: Configuration) throws { self.configuration = configuration }

    public func run(in context: StepContext) async throws -> StepOutput {
        let name = configuration.name ?? context.stepID.rawValue
        let recorder = StepRecorder.shared
        let call = recorder.begin(name)
        defer { recorder.end(name) }
        if let line = configuration.log { context.logger.info("\(line)") }
        if let secretName = configuration.logSecret {
            let value = try context.secret(secretName)
            context.logger.info("secret is \(value)")
        }
        if let rendezvous = configuration.rendezvous {
            try await recorder.arrive(at: rendezvous, participants: configuration.participants ?? 2)
        }
        if let ms = configuration.sleepMs { try await Task.sleep(for: .milliseconds(ms)) }
        if configuration.hang == true {
            while true { try await Task.sleep(for: .seconds(3600)) }
        }
        let failTimes = configuration.failTimes ?? 0
        if failTimes < 0 || call <= failTimes {
            throw StepFailure(step: context.stepID, message: "scripted failure on call \(call)", exitCode: configuration.exitCode)
        }
        let inputNames = context.inputs.keys.map(\.rawValue).sorted()
        return StepOutput([
            "name": .string(name), "call": .int(Int64(call)), "inputs": .array(inputNames.map { .string($0) }),
            "env": .object(context.environment.mapValues { .string($0) }),
        ])
    }
}

/// Records calls of ``CountingStep`` by name: how many, which are running now, the most that
/// ran at once, and the order they started in.
public final class StepRecorder: Sendable {
    public static let shared = StepRecorder()

    private struct State {
        var calls: [String: Int] = [:]
        var running: Set<String> = []
        var maxRunning = 0
        var started: [String] = []
        var cancelledWhileRunning: [String] = []
        var arrivals: [String: Int] = [:]
    }

    private let state = Mutex(State())

    /// Clears everything recorded under names that start with `prefix` (tests use a unique prefix).
    public func reset(prefix: String) {
        state.withLock { s in
            s.calls = s.calls.filter { !$0.key.hasPrefix(prefix) }
            s.started.removeAll { $0.hasPrefix(prefix) }
        }
    }

    func begin(_ name: String) -> Int {
        state.withLock { s in
            s.calls[name, default: 0] += 1
            s.running.insert(name)
            s.maxRunning = max(s.maxRunning, s.running.count)
            s.started.append(name)
            return s.calls[name]!
        }
    }

    func end(_ name: String) {
        _ = state.withLock { $0.running.remove(name) }
    }

    public func calls(_ name: String) -> Int { state.withLock { $0.calls[name] ?? 0 } }

    /// Names (with `prefix`) in the order their calls started.
    public func startOrder(prefix: String) -> [String] { state.withLock { $0.started.filter { $0.hasPrefix(prefix) } } }

    /// Waits until `participants` calls have arrived at `name`. Polls briefly; gives up after
    /// 30 s so a scheduling bug fails the test instead of hanging it.
    func arrive(at name: String, participants: Int) async throws {
        state.withLock { $0.arrivals[name, default: 0] += 1 }
        let clock = ContinuousClock()
        let deadline = clock.now + .seconds(30)
        while state.withLock({ $0.arrivals[name, default: 0] }) < participants {
            guard clock.now < deadline else {
                throw StepFailure(step: StepID(name), message: "rendezvous '\(name)' timed out: steps did not run concurrently")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }
}
