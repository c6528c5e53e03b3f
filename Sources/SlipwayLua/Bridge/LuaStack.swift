import CLua
import CLuaShim

/// A view of one Lua thread's stack, with the operations host functions may use. Everything
/// here is raw access that cannot run metamethods; allocation failures cannot raise while a host
/// function runs (the allocator allows them then; see shim.c).
struct LuaStack {
    let L: OpaquePointer

    init(_ L: OpaquePointer) { self.L = L }

    var top: Int32 { lua_gettop(L) }

    func absolute(_ index: Int32) -> Int32 { lua_absindex(L, index) }

    func type(at index: Int32) -> Int32 { lua_type(L, index) }

    func typeName(at index: Int32) -> String { String(cString: lua_typename(L, lua_type(L, index))) }

    /// The string at `index`, only if it is a string (numbers are not converted in place).
    func string(at index: Int32) -> String? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = slipway_tolstring(L, index, &length) else { return nil }
        let bytes = UnsafeRawBufferPointer(start: pointer, count: length)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The raw bytes of the string at `index`, if it is one.
    func bytes(at index: Int32) -> [UInt8]? {
        guard lua_type(L, index) == LUA_TSTRING else { return nil }
        var length = 0
        guard let pointer = slipway_tolstring(L, index, &length) else { return nil }
        return Array(UnsafeRawBufferPointer(start: pointer, count: length))
    }

    func pop(_ count: Int32) { slipway_pop(L, count) }

    func push(string: String) {
        var text = string
        text.withUTF8 { bytes in
            bytes.withMemoryRebound(to: CChar.self) { _ = lua_pushlstring(L, $0.baseAddress, $0.count) }
        }
    }

    func pushNil() { lua_pushnil(L) }
    func push(bool: Bool) { lua_pushboolean(L, bool ? 1 : 0) }
    func push(integer: Int64) { lua_pushinteger(L, lua_Integer(integer)) }
    func push(number: Double) { lua_pushnumber(L, number) }
    func pushValue(at index: Int32) { lua_pushvalue(L, index) }
    func newTable(arrayCount: Int32 = 0, fieldCount: Int32 = 0) { lua_createtable(L, arrayCount, fieldCount) }

    /// `table[key] = top of stack` (popped), without metamethods.
    func rawSet(field key: String, in table: Int32) {
        let table = absolute(table)
        push(string: key)
        lua_rotate(L, -2, 1)
        lua_rawset(L, table)
    }

    /// `table[index] = top of stack` (popped), without metamethods.
    func rawSet(index: Int64, in table: Int32) { lua_rawseti(L, absolute(table), lua_Integer(index)) }

    /// Pushes `table[key]` without metamethods and returns its type.
    @discardableResult
    func rawGet(field key: String, in table: Int32) -> Int32 {
        let table = absolute(table)
        push(string: key)
        return lua_rawget(L, table)
    }

    /// Where the Lua function `level` frames up was executing (1 = whoever called the running
    /// host function).
    func location(level: Int32 = 1) -> (file: String, line: Int)? {
        var buffer = [CChar](repeating: 0, count: 1024)
        let line = slipway_where(L, level, &buffer, buffer.count)
        guard line > 0 else { return nil }
        return (Self.text(of: buffer), Int(line))
    }

    /// Where the function at `index` was defined.
    func definitionLocation(ofFunctionAt index: Int32) -> (file: String, line: Int)? {
        var buffer = [CChar](repeating: 0, count: 1024)
        let line = slipway_function_where(L, absolute(index), &buffer, buffer.count)
        guard line >= 0 else { return nil }
        return (Self.text(of: buffer), Int(line))
    }

    /// The NUL-terminated text a C helper wrote into `buffer`.
    private static func text(of buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
