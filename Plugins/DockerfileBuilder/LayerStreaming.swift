public import SlipwayOCI
import Synchronization

/// Where a build uploads its layers while they are written (``StreamedUpload``), for as long as
/// the registry takes them: once it refuses to open an upload session, the build stops asking,
/// since an unreachable registry would otherwise cost a connection attempt per layer. The push
/// then sends the layers and reports what is wrong.
public final class LayerStreaming: Sendable {
    public let destination: ImageReference
    private let refused = Mutex(false)

    public init(to destination: ImageReference) { self.destination = destination }

    /// An upload session for the next layer; nil when the registry will not open one (said
    /// once in the build log).
    func start(with client: RegistryClient, log: (@Sendable (String) -> Void)?) async -> StreamedUpload? {
        guard !refused.withLock({ $0 }) else { return nil }
        if let upload = await StreamedUpload.start(with: client, to: destination) { return upload }
        if refused.withLock({ seen in defer { seen = true }; return !seen }) {
            log?("could not open an upload in \(destination.registry)/\(destination.repository); layers are left to the push")
        }
        return nil
    }
}
