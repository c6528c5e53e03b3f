public import Foundation
import Glibc
import SlipwayKernel

/// Refuses to fill a disk: a write may go on while the file system holding `directory` keeps at
/// least `reserve` bytes free.
public struct FreeSpaceCheck: Sendable, Hashable {
    public var directory: URL
    public var reserve: Int64

    public init(directory: URL, reserve: Int64) {
        self.directory = directory
        self.reserve = reserve
    }

    /// What is wrong, or nil while there is room.
    public func problem() -> String? {
        guard let free = Self.freeBytes(at: directory) else { return nil }
        guard free < reserve else { return nil }
        return "the disk holding \(directory.path) has \(ByteCountText.describe(free)) free, less than the \(ByteCountText.describe(reserve)) Slipway keeps free; refusing to unpack more"
    }

    static func freeBytes(at directory: URL) -> Int64? {
        var info = statvfs()
        var path = directory
        // The folder may not exist yet: ask the nearest one that does.
        while statvfs(path.path, &info) != 0 {
            guard path.pathComponents.count > 1 else { return nil }
            path = path.deletingLastPathComponent()
        }
        return Int64(info.f_bavail) * Int64(info.f_frsize)
    }
}
