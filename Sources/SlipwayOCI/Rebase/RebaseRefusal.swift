public import SlipwayKernel

/// Why an image cannot be rebased safely. Each says which layer or platform and what was found,
/// so the operator can rebuild instead, or fix what was named.
public struct RebaseRefusal: CategorizedError, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// The image's lowest layers are not the old base's (by digest and diffID).
        case lowerLayersDiffer(layer: Int, detail: String)
        /// A layer above the base was made by running something (RUN), which depends on what
        /// the old base contained.
        case layerRan(layer: Int, detail: String)
        /// No record of how the layers above the base were made, and history was not trusted.
        case unproven(String)
        /// The new base has no manifest for a platform of the image, or for another platform.
        case platformMissing(String)
        /// The content is not consistent with itself (layers and diffIDs disagree).
        case inconsistent(String)
    }

    public let image: String
    public let reason: Reason
    public var category: ErrorCategory { .failed }

    public init(image: String, _ reason: Reason) {
        self.image = image
        self.reason = reason
    }

    public var description: String {
        switch reason {
        case .lowerLayersDiffer(let layer, let detail):
            "cannot rebase \(image): its layer \(layer) is not the old base's (\(detail)); the image was not built on that base"
        case .layerRan(let layer, let detail):
            "cannot rebase \(image): layer \(layer) above the base came from \(detail), whose result depends on the old base; rebuild it instead"
        case .unproven(let detail):
            "cannot rebase \(image): \(detail)"
        case .platformMissing(let detail):
            "cannot rebase \(image): \(detail)"
        case .inconsistent(let detail):
            "cannot rebase \(image): \(detail)"
        }
    }
}
