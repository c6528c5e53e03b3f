public import SlipwayKernel

/// A build that stopped at a line of its Dockerfile, with where: file, line and instruction.
/// Most are the Dockerfile's fault (invalid input); a RUN that fails is `failed`, and a base
/// that cannot be fetched keeps the category of why (not found, unauthorized, transient), and
/// the error itself as its ``cause``.
public struct DockerfileError: CategorizedError, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    /// The instruction keyword, when the problem is in one (`COPY`).
    public var instruction: String?
    /// What went wrong at this line, in the Dockerfile's terms (`--chown=app`); the cause's own
    /// text follows it in ``description``.
    public var message: String
    public var category: ErrorCategory
    public var cause: (any Error)? { underlying?.error }
    private var underlying: Cause?

    /// - Parameter category: when nil, the cause's (if it says one), else invalid input.
    public init(
        location: SourceLocation, instruction: String? = nil, message: String, cause: (any Error)? = nil,
        category: ErrorCategory? = nil
    ) {
        self.location = location
        self.instruction = instruction
        self.message = message
        self.underlying = cause.map(Cause.init)
        self.category = category ?? (cause as? any CategorizedError)?.category ?? .invalidInput
    }

    public var description: String {
        let cause = self.cause.map { "\($0)" }
        let text = [message, cause].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: ": ")
        return "\(location): " + (instruction.map { "\($0): " } ?? "") + text
    }

    public static func == (lhs: DockerfileError, rhs: DockerfileError) -> Bool {
        lhs.description == rhs.description && lhs.category == rhs.category
    }

    /// An error value kept for what it is. `catch` hands errors over as `any Error`, which is
    /// not Sendable; Slipway's errors are immutable values, so carrying one across is safe.
    private struct Cause: @unchecked Sendable {
        let error: any Error
    }
}
