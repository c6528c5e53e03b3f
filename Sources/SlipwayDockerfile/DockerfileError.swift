public import SlipwayKernel

/// A Dockerfile that cannot be understood, with where: file, line and instruction.
public struct DockerfileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var location: SourceLocation
    /// The instruction keyword, when the problem is in one (`COPY`).
    public var instruction: String?
    public var message: String

    public init(location: SourceLocation, instruction: String? = nil, message: String) {
        self.location = location
        self.instruction = instruction
        self.message = message
    }

    public var description: String {
        "\(location): " + (instruction.map { "\($0): " } ?? "") + message
    }
}
