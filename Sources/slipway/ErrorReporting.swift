import ArgumentParser
import BuildContexts
import Foundation
import SlipwayDockerfile
import SlipwayKernel

/// Maps errors to the documented exit statuses: 64 for invalid input, 1 for failures.
enum ErrorReporting {
    static func exit(for error: any Error, verbose: Bool) -> ExitCode {
        let invalid: Bool
        var message = String(describing: error)
        switch error {
        case let error as RecipeError:
            invalid = true
            message = "error: \(error)"
            if verbose, let traceback = error.traceback { message += "\n" + traceback }
        case is PipelineValidationError, is InputError, is PluginError, is ConfigurationError, is DockerfileError, is GitLocator.Invalid:
            invalid = true
            message = "error: \(message)"
        default:
            invalid = false
            message = "error: \(message)"
        }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return invalid ? ExitCode(64) : ExitCode.failure
    }
}
