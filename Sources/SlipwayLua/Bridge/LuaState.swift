import CLua
import CLuaShim
import SlipwayKernel

/// Owns one Lua interpreter. Not `Sendable`: one state per recipe session, never shared.
///
/// The bridge rules (Docs/lua-bridge-safety.md): Swift enters Lua only through ``pcall(arguments:results:)``;
/// Swift functions exposed to Lua (``HostFunction``) report errors by throwing, and the C
/// trampoline raises the Lua error after the Swift frame has returned.
final class LuaState {
    /// A Swift function callable from Lua. It receives the calling thread's stack (which may be
    /// a coroutine's) and returns how many results it pushed.
    typealias HostFunction = (LuaStack) throws -> Int32

    private(set) var main: LuaStack
    private var hostFunctions: [HostFunction] = []
    private(set) var isClosed = false
    let limits: RecipeLimits

    /// - Throws: ``LuaBridgeError`` when the interpreter cannot be created.
    init(limits: RecipeLimits) throws {
        Self.installDispatch
        guard let L = slipway_newstate(limits.memoryBytes) else {
            throw LuaBridgeError(message: "cannot create a Lua interpreter (out of memory)")
        }
        self.limits = limits
        main = LuaStack(L)
        withHostAllowance { slipway_open_safe_libs(L) }
    }

    deinit { close() }

    func close() {
        guard !isClosed else { return }
        isClosed = true
        slipway_close(main.L)
    }

    /// Wraps Swift-side stack work done outside any Lua call. Allocations may then exceed the
    /// memory budget rather than fail: a failure there would be an unprotected Lua error.
    func withHostAllowance<T>(_ body: () throws -> T) rethrows -> T {
        let budget = slipway_budget_of(main.L)!
        budget.pointee.in_host += 1
        defer { budget.pointee.in_host -= 1 }
        return try body()
    }

    /// Pushes `function` as a Lua C closure on `stack`.
    func push(_ function: @escaping HostFunction, on stack: LuaStack) {
        precondition(!isClosed, "Lua state used after close")
        hostFunctions.append(function)
        slipway_push_host_function(stack.L, Unmanaged.passUnretained(self).toOpaque(), Int32(hostFunctions.count - 1))
    }

    /// Loads `text` as a chunk named `chunkName` ("@path" for files; a text chunk only) and leaves the function on
    /// the stack.
    /// - Throws: ``LuaCallError`` with the syntax error.
    func load(_ text: String, chunkName: String) throws {
        let status = withHostAllowance {
            var text = text
            return text.withUTF8 { bytes in
                bytes.withMemoryRebound(to: CChar.self) {
                    slipway_load_text(main.L, $0.baseAddress, $0.count, chunkName)
                }
            }
        }
        if status != LUA_OK {
            let message = main.string(at: -1) ?? "cannot load chunk"
            main.pop(1)
            throw LuaCallError(status: status, message: message, traceback: nil, limitHit: .none)
        }
    }

    /// Calls the function below `arguments` values on the stack, within the instruction and
    /// time budgets. Leaves `results` values on success (`LUA_MULTRET` for all).
    /// - Throws: ``LuaCallError`` with message, traceback and which limit (if any) was hit.
    func pcall(arguments: Int32, results: Int32, instructionLimit: Int64, seconds: Double) throws {
        precondition(!isClosed, "Lua state used after close")
        slipway_arm(main.L, instructionLimit, seconds)
        let status = slipway_pcall(main.L, arguments, results)
        let budget = slipway_budget_of(main.L)!.pointee
        let limitHit = LuaCallError.Limit(rawValue: budget.limit_hit) ?? .none
        // Leave the state usable for the next call: budgets re-armed by the next pcall.
        slipway_arm(main.L, 0, 0)
        guard status == LUA_OK else {
            let message = main.string(at: -1) ?? "error"
            main.pop(1)
            let traceback = withHostAllowance { () -> String? in
                lua_getfield(main.L, slipway_registryindex(), "slipway.traceback")
                defer { main.pop(1) }
                return main.string(at: -1)
            }
            throw LuaCallError(status: status, message: message, traceback: traceback, limitHit: limitHit)
        }
    }

    /// Takes a registry reference to the value on top of `stack` (popping it). The registry is
    /// shared by all threads, so a coroutine's stack works as well as the main one.
    func reference(name: String, from stack: LuaStack? = nil) -> LuaReference {
        LuaReference(state: self, ref: withHostAllowance { slipway_ref((stack ?? main).L) }, name: name)
    }

    /// The single C-callable dispatcher; installed once per process.
    private static let installDispatch: Void = {
        slipway_set_dispatch { L, owner, function in
            let state = Unmanaged<LuaState>.fromOpaque(owner!).takeUnretainedValue()
            let stack = LuaStack(L!)
            do {
                return try state.hostFunctions[Int(function)](stack)
            } catch {
                stack.push(string: (error as? LuaRaise)?.message ?? String(describing: error))
                return SLIPWAY_RAISE
            }
        }
    }()
}

/// Thrown by a host function to raise a Lua error with exactly this message.
struct LuaRaise: Error {
    var message: String
}

/// A value kept alive in the Lua registry, owned by this object: released in `deinit`, and
/// invalid (but safe to drop) once its state is closed.
final class LuaReference {
    private let state: LuaState
    private let ref: Int32
    let name: String

    fileprivate init(state: LuaState, ref: Int32, name: String) {
        self.state = state
        self.ref = ref
        self.name = name
    }

    /// Pushes the referenced value on the main stack.
    func push() {
        precondition(!state.isClosed, "Lua reference '\(name)' used after its state was closed")
        slipway_getref(state.main.L, ref)
    }

    deinit {
        if !state.isClosed { slipway_unref(state.main.L, ref) }
    }
}
