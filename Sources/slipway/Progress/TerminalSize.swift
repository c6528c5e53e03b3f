import Glibc

/// The size of the terminal a descriptor is connected to.
enum TerminalSize {
    /// Columns, or nil when `descriptor` is no terminal (or reports no size).
    static func columns(of descriptor: Int32) -> Int? {
        var size = winsize()
        guard ioctl(descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return nil }
        return Int(size.ws_col)
    }

    /// Whether `descriptor` is a terminal that can move its cursor (not `TERM=dumb`).
    static func isInteractive(_ descriptor: Int32, environment: [String: String]) -> Bool {
        isatty(descriptor) == 1 && environment["TERM"] != "dumb"
    }
}
