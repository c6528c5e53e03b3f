import Dispatch

/// Work that blocks a thread (reading a pipe, waiting for a child process) must not run on
/// Swift's cooperative pool: it has one thread per core, so on a 2-core machine two blocked
/// readers stall every other task, cancellation included. This runs it on a Dispatch thread.
public enum BlockingWork {
    public static func run<Result: Sendable>(_ work: @escaping @Sendable () -> Result) async -> Result {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
