import Foundation
import SlipwayOCI

/// Where `slipway image copy` reads or writes an image:
/// `docker://REF` or a plain reference (a registry), `oci:DIR:NAME` (an OCI layout directory),
/// `store:NAME` (Slipway's own store).
enum ImageLocation {
    case registry(ImageReference)
    case layout(URL, name: String)
    case store(name: String)

    init(parsing text: String) throws {
        if text.hasPrefix("oci:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.firstIndex(of: ":"), !rest[..<colon].isEmpty, !rest[rest.index(after: colon)...].isEmpty else {
                throw InputError("\(text): expected oci:DIR:NAME")
            }
            self = .layout(URL(fileURLWithPath: String(rest[..<colon])), name: String(rest[rest.index(after: colon)...]))
        } else if text.hasPrefix("store:") {
            let name = String(text.dropFirst(6))
            guard !name.isEmpty else { throw InputError("\(text): expected store:NAME") }
            self = .store(name: Self.storeName(name))
        } else {
            self = .registry(try ImageReference(parsing: text.hasPrefix("docker://") ? String(text.dropFirst(9)) : text))
        }
    }

    /// How the store names an image: the normalized reference when the text is one
    /// (`alpine` → `docker.io/library/alpine`), else the text as given.
    static func storeName(_ text: String) -> String {
        (try? ImageReference(parsing: text).description) ?? text
    }

    var registry: String? {
        if case .registry(let reference) = self { return reference.registry }
        return nil
    }
}
