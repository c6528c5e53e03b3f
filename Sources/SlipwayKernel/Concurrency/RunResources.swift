/// What a run's steps leave running for the steps after them — a detached service container,
/// the run's network — and how to stop it. The engine closes the resources when the run ends,
/// however it ends (success, failure, cancel, timeout), newest first, so a service stops before
/// the network it is attached to is removed.
///
/// A step registers a release as soon as it has something to release (``onRelease(_:_:)``); a
/// resource several steps share (the run network) is made once by whichever step asks first
/// (``shared(_:make:release:)``).
public actor RunResources {
    private struct Release {
        var label: String
        var action: @Sendable () async -> Void
    }

    private var releases: [Release] = []
    private var made: [String: Task<any Sendable, any Error>] = [:]
    private var closed = false

    public init() {}

    /// Registers how to release something a step started. When the run has already ended (a
    /// step finishing after a cancel), the release runs at once and the error says so.
    /// - Throws: ``RunResourcesClosed`` after the release ran.
    public func onRelease(_ label: String, _ action: @escaping @Sendable () async -> Void) async throws {
        guard !closed else {
            await action()
            throw RunResourcesClosed(label: label)
        }
        releases.append(Release(label: label, action: action))
    }

    /// The resource named `key`, made by the first caller and shared with every later one. Its
    /// release is registered when it is first asked for, so it runs after the releases of
    /// everything registered later (the containers attached to it).
    ///
    /// Making it runs in a task of its own: cancelling one step does not cancel a resource other
    /// steps are waiting for. A failure to make it is every caller's failure.
    public func shared<Value: Sendable>(
        _ key: String, make: @escaping @Sendable () async throws -> Value,
        release: @escaping @Sendable (Value) async -> Void
    ) async throws -> Value {
        guard !closed else { throw RunResourcesClosed(label: key) }
        let task: Task<any Sendable, any Error>
        if let existing = made[key] {
            task = existing
        } else {
            task = Task { try await make() }
            made[key] = task
            releases.append(
                Release(label: key) {
                    if let value = try? await task.value as? Value { await release(value) }
                })
        }
        guard let value = try await task.value as? Value else {
            throw RunResourcesClosed(label: "\(key) (asked for as \(Value.self), made as another type)")
        }
        return value
    }

    /// Releases everything, newest first. Called once by the engine when the run ends; later
    /// registrations release at once.
    public func close() async {
        closed = true
        while let release = releases.popLast() {
            await release.action()
        }
    }
}

/// Asked for a run resource after the run ended.
public struct RunResourcesClosed: Error, CustomStringConvertible, Sendable {
    public var label: String
    public var description: String { "the run has ended: \(label) was released at once" }
}
