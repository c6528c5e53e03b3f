import Glibc

/// libarchive converts entry names between UTF-8 and the process locale's character set. In
/// the "C" locale (what a service or `make test` usually runs in) it cannot convert non-ASCII
/// names at all: extraction fails with "Can't translate pathname", and bookworm's libarchive
/// 3.6.2 pax writer even dereferences NULL. Layers' names are UTF-8 bytes, so the character
/// type is set to C.UTF-8 (built into glibc) once, before libarchive is first used. Only
/// LC_CTYPE changes; messages, numbers and collation stay as they were.
enum ArchiveLocale {
    static let ready: Bool = setlocale(LC_CTYPE, "C.UTF-8") != nil

    /// Call before any libarchive work that handles names.
    static func ensure() { _ = ready }
}
