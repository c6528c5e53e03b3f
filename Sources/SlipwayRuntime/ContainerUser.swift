public import Foundation
public import SlipwayOCI
import Glibc

/// The user a container process runs as, from an image's `USER` text (`name`, `uid`,
/// `name:group`, `uid:gid`), with names looked up in the image's own `/etc/passwd` and
/// `/etc/group` (never the host's).
public struct ContainerUser: Sendable, Hashable {
    public var uid: UInt32
    public var gid: UInt32
    public var home: String
    /// The primary group and the groups `/etc/group` lists the user in, as Docker gives them.
    public var groups: [UInt32] = []

    public static let root = ContainerUser(uid: 0, gid: 0, home: "/root", groups: [0])

    /// - Parameter tree: the container's root (a mounted root file system, or a stack of
    ///   layers); `/etc/passwd` and `/etc/group` are found inside it, symlinks resolved within it,
    ///   and read only if they are regular files.
    /// - Throws: ``RuntimeError/unknownUser(_:)`` naming what is missing.
    public static func resolve(_ text: String, in tree: some RootedTree) throws -> ContainerUser {
        let passwd: URL?
        let group: URL?
        do {
            passwd = try tree.regularFile("etc/passwd")
            group = try tree.regularFile("etc/group")
        } catch let error as RootedPathError {
            throw RuntimeError.unknownUser("cannot read the image's /etc files: \(error)")
        }
        return try resolve(text, passwd: passwd, group: group)
    }

    /// The same, with the image's `passwd` and `group` files given (nil when the image has none).
    public static func resolve(_ text: String, passwd passwdFile: URL?, group groupFile: URL?) throws -> ContainerUser {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard let userPart = parts.first, !userPart.isEmpty else { return .root }
        let passwd = passwdFile.map(table) ?? []
        var user: ContainerUser
        var name: String?
        if let uid = UInt32(userPart) {
            let entry = passwd.first { $0.count > 3 && UInt32($0[2]) == uid }
            user = ContainerUser(uid: uid, gid: entry.flatMap { UInt32($0[3]) } ?? 0, home: entry.map(home) ?? "/")
            name = entry?[0]
        } else if let entry = passwd.first(where: { $0.count > 3 && $0[0] == userPart }), let uid = UInt32(entry[2]), let gid = UInt32(entry[3]) {
            user = ContainerUser(uid: uid, gid: gid, home: home(entry))
            name = entry[0]
        } else {
            throw RuntimeError.unknownUser("user '\(userPart)' is not in the image's /etc/passwd")
        }
        let groups = groupFile.map(table) ?? []
        if parts.count == 2 {
            let groupPart = parts[1]
            if let gid = UInt32(groupPart) {
                user.gid = gid
            } else if let entry = groups.first(where: { $0.count > 2 && $0[0] == groupPart }),
                let gid = UInt32(entry[2])
            {
                user.gid = gid
            } else {
                throw RuntimeError.unknownUser("group '\(groupPart)' is not in the image's /etc/group")
            }
        }
        if user.uid == 0 && user.home == "/" { user.home = "/root" }
        let member = name.map { name in
            groups.filter { $0.count > 3 && $0[3].split(separator: ",").contains(Substring(name)) }.compactMap { UInt32($0[2]) }
        } ?? []
        user.groups = [user.gid] + member.filter { $0 != user.gid }
        return user
    }

    private static func home(_ entry: [String]) -> String {
        entry.count > 5 && !entry[5].isEmpty ? entry[5] : "/"
    }

    /// Colon-separated records of a regular file, or nothing.
    private static func table(_ file: URL) -> [[String]] {
        var info = stat()
        guard lstat(file.path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 16 << 20,
            let text = try? String(contentsOf: file, encoding: .utf8)
        else { return [] }
        return text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.split(separator: ":", omittingEmptySubsequences: false).map(String.init) }
    }
}
