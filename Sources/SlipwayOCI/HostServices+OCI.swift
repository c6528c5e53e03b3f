public import SlipwayKernel

/// The content store of the run's state directory.
public enum ContentStoreService: HostServiceKey { public typealias Value = ContentStore }
/// The registry client of the run: one credential set, insecure-registry list and token cache.
public enum RegistryClientService: HostServiceKey { public typealias Value = RegistryClient }

extension HostServices {
    public var contentStore: ContentStore? {
        get { self[ContentStoreService.self] }
        set { self[ContentStoreService.self] = newValue }
    }

    public var registryClient: RegistryClient? {
        get { self[RegistryClientService.self] }
        set { self[RegistryClientService.self] = newValue }
    }
}

extension StepContext {
    /// The host's content store.
    /// - Throws: ``MissingServiceError`` when the host gave none.
    public func contentStore() throws -> ContentStore {
        guard let store = services.contentStore else { throw MissingServiceError(service: "content store", step: stepID) }
        return store
    }

    /// The host's registry client, reporting to this step: its retries and warnings are lines
    /// of the step's log, and each blob it transfers is a progress entry of the step
    /// (`pull sha256:…`, `push sha256:…`).
    /// - Throws: ``MissingServiceError`` when the host gave none.
    public func registryClient() throws -> RegistryClient {
        guard let client = services.registryClient else { throw MissingServiceError(service: "registry client", step: stepID) }
        let (sink, step) = (progress, stepID)
        return client.reporting(to: logger) { transfer in
            let label = "\(transfer.direction.rawValue) \(transfer.digest.short)"
            switch transfer.phase {
            case .started: sink.report(StepProgress(step: step, label: label, completed: 0, total: transfer.size))
            case .transferred(let bytes): sink.report(StepProgress(step: step, label: label, completed: bytes, total: transfer.size))
            case .finished: sink.report(StepProgress(step: step, label: label, completed: transfer.size, total: transfer.size))
            }
        }
    }
}
