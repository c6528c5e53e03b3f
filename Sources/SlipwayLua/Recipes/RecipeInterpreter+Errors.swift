import CLua
import SlipwayKernel

extension RecipeInterpreter {
    /// Turns a failed Lua call into a ``RecipeError`` that names the file and line.
    func recipeError(_ error: LuaCallError, instructionLimit: Int64 = 0, fallback: SourceLocation? = nil) -> RecipeError {
        let (parsed, text) = splitLocation(error.message)
        let location = parsed ?? fallback ?? self.location(line: 0)
        switch error.limitHit {
        case .instructions:
            return RecipeError(
                kind: .instructionLimit, location: location,
                message: "recipe exceeded its instruction limit (\(instructionLimit) instructions): an endless loop?",
                traceback: error.traceback)
        case .time:
            return RecipeError(
                kind: .timeLimit, location: location,
                message: "recipe exceeded its time limit (\(Int(state.limits.seconds)) s)", traceback: error.traceback)
        case .memory:
            return RecipeError(
                kind: .memoryLimit, location: location,
                message: "recipe exceeded its memory limit (\(state.limits.memoryBytes >> 20) MiB)", traceback: error.traceback)
        case .none:
            break
        }
        if error.status == LUA_ERRMEM {
            return RecipeError(kind: .memoryLimit, location: location, message: "out of memory", traceback: error.traceback)
        }
        let kind: RecipeError.Kind =
            error.status == LUA_ERRSYNTAX ? .syntax : text.contains("(sandbox)") ? .sandbox : .runtime
        return RecipeError(kind: kind, location: location, message: text, traceback: error.traceback)
    }

    /// Calls the function below `arguments` values under `instructions` and the time limit.
    /// - Throws: ``RecipeError`` naming where it failed (or `fallback`).
    func protectedCall(arguments: Int32, results: Int32, instructions: Int64, fallback: SourceLocation? = nil) throws {
        do {
            try state.pcall(arguments: arguments, results: results, instructionLimit: instructions, seconds: limits.seconds)
        } catch let error as LuaCallError {
            throw recipeError(error, instructionLimit: instructions, fallback: fallback)
        }
    }

    /// "file:line: message" → (location, message).
    func splitLocation(_ message: String) -> (SourceLocation?, String) {
        // The file part ends at the first ":<digits>: ".
        var index = message.startIndex
        while let colon = message[index...].firstIndex(of: ":") {
            let afterColon = message.index(after: colon)
            let digits = message[afterColon...].prefix { $0.isNumber }
            let end = digits.endIndex
            if !digits.isEmpty, message[end...].hasPrefix(": "), let line = Int(digits) {
                let file = resolveChunk(String(message[..<colon]))
                return (SourceLocation(file: file, line: line), String(message[message.index(end, offsetBy: 2)...]))
            }
            index = afterColon
        }
        return (nil, message)
    }
}
