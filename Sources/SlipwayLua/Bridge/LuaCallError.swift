import CLuaShim

/// A Lua call or load that failed, as the bridge saw it; the recipe layer turns it into a
/// ``SlipwayKernel/RecipeError`` that names the file and line.
struct LuaCallError: Error {
    enum Limit: Int32 {
        case none = 0, instructions = 1, memory = 2, time = 3
    }

    var status: Int32
    var message: String
    var traceback: String?
    var limitHit: Limit
}

/// The interpreter itself could not be set up.
struct LuaBridgeError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
