/// POSIX file-type bits of `st_mode` (Glibc's and libarchive's macros collide in Swift).
enum FileMode {
    static let typeMask: UInt32 = 0o170000
    static let directory: UInt32 = 0o040000
    static let regular: UInt32 = 0o100000
    static let symlink: UInt32 = 0o120000
    static let characterDevice: UInt32 = 0o020000
    static let fifo: UInt32 = 0o010000
    static let socket: UInt32 = 0o140000

    static func type(_ mode: UInt32) -> UInt32 { mode & typeMask }
}
