import CLua
import CLuaShim
import Foundation
import SlipwayKernel

extension RecipeInterpreter {
    /// The host side of `require`: finds `a.b` as `a/b.lua` under the recipe's folder or a
    /// library root and loads it as text. Returns the chunk, or nil and a message. Names are
    /// dotted identifiers only, and a file whose real path (after symlinks) leaves its root is
    /// refused.
    func findModule(_ stack: LuaStack) throws -> Int32 {
        guard let name = stack.string(at: 1) else { throw LuaRaise(message: "require: module name must be a string") }
        guard Self.isModuleName(name) else {
            stack.pushNil()
            stack.push(
                string: "require: '\(name)' is not a module name: use dotted names such as 'lib.util'; paths and '..' are not allowed in recipes (sandbox)")
            return 2
        }
        let relative = name.replacingOccurrences(of: ".", with: "/") + ".lua"
        var tried: [String] = []
        for root in moduleRoots {
            let display = root.display == "." ? relative : root.display + "/" + relative
            tried.append(display)
            let candidate = root.resolved.appendingPathComponent(relative).resolvingSymlinksInPath()
            guard FileManager.default.fileExists(atPath: candidate.path) else { continue }
            guard candidate.path.hasPrefix(root.resolved.path + "/") else {
                stack.pushNil()
                stack.push(string: "require: '\(display)' leads outside \(root.display) (a symlink?); refused (sandbox)")
                return 2
            }
            guard let data = FileManager.default.contents(atPath: candidate.path), data.count <= Self.maximumSourceBytes else {
                stack.pushNil()
                stack.push(string: "require: cannot read '\(display)' (unreadable or larger than 1 MiB)")
                return 2
            }
            let status = data.withUnsafeBytes { bytes in
                slipway_load_text(
                    stack.L, bytes.baseAddress?.assumingMemoryBound(to: CChar.self), bytes.count, "@" + display)
            }
            chunkNames.append(display)
            if status != LUA_OK {
                stack.pushNil()
                lua_rotate(stack.L, -2, 1)  // nil, message
                return 2
            }
            return 1
        }
        stack.pushNil()
        stack.push(string: "require: module '\(name)' not found (looked for \(tried.joined(separator: ", ")))")
        return 2
    }

    static func isModuleName(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        return !name.isEmpty && name.count <= 200
            && parts.allSatisfy { part in
                guard let first = part.unicodeScalars.first, first == "_" || first.properties.isAlphabetic && first.isASCII else {
                    return false
                }
                return part.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || $0 == "_" }
            }
    }

    /// Lua elides long chunk names as "...tail"; map such a name back to a loaded chunk.
    func resolveChunk(_ file: String) -> String {
        guard file.hasPrefix("...") else { return file }
        let tail = file.dropFirst(3)
        return chunkNames.last { $0.hasSuffix(tail) } ?? file
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        isASCII && (properties.isAlphabetic || ("0"..."9").contains(self))
    }
}
