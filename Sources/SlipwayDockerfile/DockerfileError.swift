public import SlipwayKernel

/// A build that stopped at a line of its Dockerfile, with where: file, line and instruction.
/// Most are the Dockerfile's fault (invalid input); a RUN that fails is `failed`, and a base
/// that cannot be fetched keeps the category of why (not found, unauthorized, transient).
public struct DockerfileError: CategorizedError, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    /// The instruction keyword, when the problem is in one (`COPY`).
    public var instruction: String?
    public var message: String
    public var category: ErrorCategory

    public init(location: SourceLocation, instruction: String? = nil, message: String, category: ErrorCategory = .invalidInput) {
        self.location = location
        self.instruction = instruction
        self.message = message
        self.category = category
    }

    public var description: String {
        "\(location): " + (instruction.map { "\($0): " } ?? "") + message
    }
}
