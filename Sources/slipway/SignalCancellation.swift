import Dispatch
import Foundation
import Synchronization

/// Runs an operation so that SIGINT or SIGTERM cancels it (steps see task cancellation and
/// clean up); a second signal exits at once with 130.
enum SignalCancellation {
    static func run<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await operation() }
        var sources: [any DispatchSourceSignal] = []
        let received = SignalCounter()
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                if received.increment() > 1 { exit(130) }
                FileHandle.standardError.write(Data("\nslipway: cancelling (press Ctrl-C again to exit at once)\n".utf8))
                task.cancel()
            }
            source.resume()
            sources.append(source)
        }
        defer {
            for source in sources { source.cancel() }
            signal(SIGINT, SIG_DFL)
            signal(SIGTERM, SIG_DFL)
        }
        return try await task.value
    }
}

private final class SignalCounter: Sendable {
    private let count = Mutex(0)

    func increment() -> Int {
        count.withLock {
            $0 += 1
            return $0
        }
    }
}
