import Dispatch

/// Work that blocks a thread (reading a pipe, waiting for a child process, a lock) or keeps a
/// core busy for long (compressing, hashing and unpacking layers) must not run on Swift's
/// cooperative pool: it has one thread per core, so on a 2-core machine two such calls stall
/// every other task, cancellation and log output included. This runs it on a Dispatch thread
/// and resumes the caller when it is done.
public enum BlockingWork {
    public static func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }

    /// The same for work that throws: its error is rethrown to the caller.
    public static func run<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }

    /// Work that waits on something outside for as long as it takes — a pipe until its writer
    /// exits, a child process, a service container's output for the whole run — on a thread of
    /// its own. Dispatch's global queues lend threads from a pool sized to the cores: a few
    /// such waits there leave the cooperative pool's work queued until Dispatch notices and
    /// adds threads (measured: steps starting 0.4–0.9 s late with two services running). A
    /// private serial queue targets an overcommitting root queue, which never makes it wait.
    public static func wait<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue(label: "slipway.wait").async { continuation.resume(returning: work()) }
        }
    }

    /// The same for waits that throw.
    public static func wait<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue(label: "slipway.wait").async { continuation.resume(with: Swift.Result { try work() }) }
        }
    }
}
