import SlipwayKernel
import Testing

/// Errors say what kind of failure they are; the category alone decides the exit status (and
/// the HTTP status the server will use), never the error's type or text.
struct ErrorCategoryTests {
    struct Unsaid: Error {}

    @Test func errorsCarryTheirCategory() {
        let cases: [(any Error, ErrorCategory)] = [
            (RecipeError(kind: .syntax, location: SourceLocation(file: "r.lua", line: 1), message: "x"), .invalidInput),
            (PipelineValidationError(problems: []), .invalidInput),
            (ConfigurationError(path: [], message: "x"), .invalidInput),
            (PluginError.unknownKind("nope"), .invalidInput),
            (PluginError.duplicateKind("echo"), .internal),
            (StepFailure(step: StepID("a"), message: "x"), .failed),
            (Unsaid(), .internal),
        ]
        for (error, category) in cases { #expect(ErrorCategory.of(error) == category, "\(error)") }
    }

    @Test func exitAndHTTPStatusesFollowTheCategory() {
        #expect(ErrorCategory.allCases.filter { $0.exitCode == 64 } == [.invalidInput])
        #expect(ErrorCategory.allCases.allSatisfy { $0 == .invalidInput || $0.exitCode == 1 })
        let statuses = Dictionary(uniqueKeysWithValues: ErrorCategory.allCases.map { ($0, $0.httpStatus) })
        #expect(statuses == [.invalidInput: 400, .notFound: 404, .unauthorized: 401, .conflict: 409, .transient: 503, .failed: 422, .internal: 500])
    }
}
