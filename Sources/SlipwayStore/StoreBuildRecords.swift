public import SlipwayKernel

/// The host's ``BuildRecords`` read from the state store: what the run recorder kept from each
/// build's report.
public struct StoreBuildRecords: BuildRecords {
    let store: any SlipwayStore

    public init(store: any SlipwayStore) {
        self.store = store
    }

    public func record(ofImage digest: String) async throws -> BuildRecord? {
        guard let image = try await store.image(digest: digest), let layers = image.layers else { return nil }
        return BuildRecord(layers: layers, buildTimeBases: image.buildTimeBases)
    }
}
