import CLua
import CLuaShim
import SlipwayKernel

extension RecipeInterpreter {
    static let maximumDepth = 64

    /// Converts the Lua value at `index` to a ``ConfigValue`` using raw access only.
    /// - Parameters:
    ///   - path: the value's key path, for messages.
    ///   - functionsAllowed: functions become hooks (task and trigger tables) or are refused.
    ///   - positionalKey: for a constructor's own table, list items go under this key
    ///     (`push { img }` → `inputs = { img }`); elsewhere a table is either a list or a map.
    func readValue(
        at index: Int32, on stack: LuaStack, path: [ConfigPathComponent], functionsAllowed: Bool,
        positionalKey: String? = nil, depth: Int = 0, enclosing: Set<UInt> = []
    ) throws -> ConfigValue {
        let index = stack.absolute(index)
        func fail(_ message: String) -> ConfigurationError { ConfigurationError(path: path, message: message) }
        switch stack.type(at: index) {
        case LUA_TNIL: return .null
        case LUA_TBOOLEAN: return .bool(lua_toboolean(stack.L, index) != 0)
        case LUA_TNUMBER:
            if slipway_isinteger(stack.L, index) != 0 { return .int(Int64(lua_tointegerx(stack.L, index, nil))) }
            let number = lua_tonumberx(stack.L, index, nil)
            guard number.isFinite else { throw fail("numbers must be finite, got \(number)") }
            return .double(number)
        case LUA_TSTRING:
            guard let bytes = stack.bytes(at: index), let text = String(validating: bytes, as: UTF8.self) else {
                throw fail("strings must be valid UTF-8")
            }
            return .string(text)
        case LUA_TFUNCTION:
            guard functionsAllowed else { throw fail("a function is not allowed here") }
            return .hook(registerHook(at: index, on: stack, name: path.last.map { "\($0)" } ?? "function"))
        case LUA_TUSERDATA:
            guard let handle = handle(at: index, on: stack) else {
                throw fail("unsupported value (a step from an earlier evaluation, or foreign userdata)")
            }
            switch Handle.Tag(rawValue: handle.tag) {
            case .step: return .step(steps[Int(handle.index)].id)
            case .trigger: return .object(["$trigger": .int(Int64(handle.index))])
            default: throw fail("a pipeline or task cannot be used as a value")
            }
        case LUA_TTABLE:
            // A table inside itself would be read for ever; say so instead.
            let identity = UInt(bitPattern: lua_topointer(stack.L, index))
            guard !enclosing.contains(identity) else { throw fail("a table contains itself; configuration values must be trees") }
            guard depth < Self.maximumDepth else { throw fail("value is nested more than \(Self.maximumDepth) tables deep") }
            // Each level holds a key and a value on the Lua stack; make room before pushing.
            guard lua_checkstack(stack.L, 4) != 0 else { throw fail("value is nested too deeply for the Lua stack") }
            return try readTable(
                at: index, on: stack, path: path, functionsAllowed: functionsAllowed, positionalKey: positionalKey,
                depth: depth, enclosing: enclosing.union([identity]))
        default:
            throw fail("unsupported value of type \(stack.typeName(at: index))")
        }
    }

    private func readTable(
        at index: Int32, on stack: LuaStack, path: [ConfigPathComponent], functionsAllowed: Bool,
        positionalKey: String?, depth: Int, enclosing: Set<UInt>
    ) throws -> ConfigValue {
        var items: [Int64: ConfigValue] = [:]
        var fields: [String: ConfigValue] = [:]
        let base = stack.top
        defer { stack.pop(stack.top - base) }
        stack.pushNil()
        while lua_next(stack.L, index) != 0 {
            // Key at -2, value at -1. Never convert the key in place: it would break lua_next.
            switch stack.type(at: -2) {
            case LUA_TSTRING:
                let key = stack.string(at: -2)!
                guard !key.hasPrefix("$") else {
                    throw ConfigurationError(path: path + [.key(key)], message: "keys starting with '$' are reserved")
                }
                fields[key] = try readValue(
                    at: -1, on: stack, path: path + [.key(key)], functionsAllowed: functionsAllowed, depth: depth + 1, enclosing: enclosing)
            case LUA_TNUMBER where slipway_isinteger(stack.L, -2) != 0:
                let position = Int64(lua_tointegerx(stack.L, -2, nil))
                items[position] = try readValue(
                    at: -1, on: stack, path: path + [.index(Int(position))], functionsAllowed: functionsAllowed,
                    depth: depth + 1, enclosing: enclosing)
            default:
                throw ConfigurationError(path: path, message: "table keys must be names or list positions, got \(stack.typeName(at: -2))")
            }
            stack.pop(1)
        }
        var list: [ConfigValue] = []
        if !items.isEmpty {
            guard items.keys.min() == 1, items.keys.max() == Int64(items.count) else {
                throw ConfigurationError(path: path, message: "list has gaps or positions other than 1...n")
            }
            list = (1...Int64(items.count)).map { items[$0]! }
        }
        if let positionalKey {
            if !list.isEmpty {
                guard fields[positionalKey] == nil else {
                    throw ConfigurationError(path: path, message: "give '\(positionalKey)' either as list items or as a key, not both")
                }
                fields[positionalKey] = .array(list)
            }
            return .object(fields)
        }
        if list.isEmpty { return .object(fields) }
        guard fields.isEmpty else {
            throw ConfigurationError(
                path: path, message: "table mixes list items with named keys (\(fields.keys.sorted().joined(separator: ", ")))")
        }
        return .array(list)
    }

    /// Pushes `value` as a Lua value (tables for lists and maps; hooks as their functions).
    func push(_ value: ConfigValue, on stack: LuaStack) {
        switch value {
        case .null: stack.pushNil()
        case .bool(let v): stack.push(bool: v)
        case .int(let v): stack.push(integer: v)
        case .double(let v): stack.push(number: v)
        case .string(let v): stack.push(string: v)
        case .step(let id): stack.push(string: id.rawValue)
        case .hook(let ref):
            if let hook = hooks[ref.id] { hook.function.push() } else { stack.pushNil() }
        case .array(let items):
            stack.newTable(arrayCount: Int32(clamping: items.count))
            for (offset, item) in items.enumerated() {
                push(item, on: stack)
                stack.rawSet(index: Int64(offset + 1), in: -2)
            }
        case .object(let fields):
            stack.newTable(fieldCount: Int32(clamping: fields.count))
            for (key, field) in fields {
                push(field, on: stack)
                stack.rawSet(field: key, in: -2)
            }
        }
    }

    /// Keeps the function at `index` alive as a hook and returns its handle.
    func registerHook(at index: Int32, on stack: LuaStack, name: String) -> HookReference {
        let where_ = stack.definitionLocation(ofFunctionAt: index)
        lastHookID += 1
        let id = lastHookID
        stack.pushValue(at: index)
        let location = SourceLocation(file: resolveChunk(where_?.file ?? recipePath), line: where_?.line ?? 0)
        let reference = HookReference(id: id, name: name, location: location)
        hooks[id] = Hook(function: state.reference(name: name, from: stack), reference: reference, generation: generation)
        return reference
    }

    /// The handle at `index`, if it is one of this evaluation's (stale or foreign ones are nil).
    func handle(at index: Int32, on stack: LuaStack? = nil) -> Handle? {
        let stack = stack ?? state.main
        guard let raw = slipway_testudata(stack.L, index, Self.handleMetatable) else { return nil }
        let handle = raw.load(as: Handle.self)
        let count: Int
        switch Handle.Tag(rawValue: handle.tag) {
        case .step:
            guard handle.generation == generation else { return nil }
            count = steps.count
        case .trigger: count = triggers.count
        case .pipeline: count = pipelines.count
        case .task: count = tasks.count
        case nil: return nil
        }
        return handle.index >= 0 && Int(handle.index) < count ? handle : nil
    }

    func makeHandle(_ tag: Handle.Tag, index: Int) -> Handle {
        Handle(tag: tag.rawValue, index: Int32(index), generation: generation)
    }

    func pushHandle(_ handle: Handle, on stack: LuaStack) {
        let raw = slipway_newuserdata(stack.L, MemoryLayout<Handle>.size)!
        raw.storeBytes(of: handle, as: Handle.self)
        lua_getfield(stack.L, slipway_registryindex(), Self.handleMetatable)
        lua_setmetatable(stack.L, -2)
    }
}
