/// Sizes as people write them in flags and recipes: `512MiB`, `2GiB`, `1.5GB`, `4096` (bytes).
/// Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB, GB, TB) of 1000;
/// `K`, `M`, `G` and `T` alone are binary, as in Docker's `--memory`.
public enum ByteCountText {
    private static let units: [(suffix: String, factor: Double)] = [
        ("KiB", 1024), ("MiB", 1_048_576), ("GiB", 1_073_741_824), ("TiB", 1_099_511_627_776),
        ("kB", 1000), ("KB", 1000), ("MB", 1e6), ("GB", 1e9), ("TB", 1e12),
        ("K", 1024), ("M", 1_048_576), ("G", 1_073_741_824), ("T", 1_099_511_627_776), ("B", 1),
    ]

    /// The byte count `text` names, or nil when it is not a size.
    public static func parse(_ text: String) -> Int64? {
        let trimmed = text.filter { !$0.isWhitespace }
        for (suffix, factor) in units where trimmed.hasSuffix(suffix) {
            guard let number = Double(trimmed.dropLast(suffix.count)), number >= 0, number * factor < 9.2e18 else { return nil }
            return Int64(number * factor)
        }
        guard let bytes = Int64(trimmed), bytes >= 0 else { return nil }
        return bytes
    }

    /// `1.5 GiB`, `300 MiB`, `12 KiB`, `17 bytes`.
    public static func describe(_ bytes: Int64) -> String {
        let units: [(String, Double)] = [("TiB", 1_099_511_627_776), ("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024)]
        for (name, size) in units where Double(bytes) >= size {
            let value = Double(bytes) / size
            let text = value == value.rounded() ? String(Int64(value)) : String(format1(value))
            return "\(text) \(name)"
        }
        return "\(bytes) bytes"
    }

    private static func format1(_ value: Double) -> String {
        let tenths = (value * 10).rounded()
        return "\(Int64(tenths) / 10).\(Int64(tenths) % 10)"
    }
}
