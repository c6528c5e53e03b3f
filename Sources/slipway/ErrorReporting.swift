import ArgumentParser
import BuildContexts
import Foundation
import SlipwayDockerfile
import SlipwayKernel

/// Prints an error and gives its exit status: the error's category decides (64 for invalid
/// input, 1 for everything else; `ErrorCategory.exitCode`), never its type or its text.
enum ErrorReporting {
    static func exit(for error: any Error, verbose: Bool) -> ExitCode {
        var message = "error: \(error)"
        if verbose, let recipe = error as? RecipeError, let traceback = recipe.traceback { message += "\n" + traceback }
        FileHandle.standardError.write(Data((message + "\n").utf8))
        return ExitCode(ErrorCategory.of(error).exitCode)
    }
}
