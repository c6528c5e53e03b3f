public import SlipwayKernel

/// `SOURCE_DATE_EPOCH` as the host was given it: the time clamp of every layer a build writes,
/// before the Git commit time (`BuildRequest.epoch(for:sourceDateEpoch:)`).
public enum SourceDateEpochService: HostServiceKey { public typealias Value = Int64 }

extension HostServices {
    public var sourceDateEpoch: Int64? {
        get { self[SourceDateEpochService.self] }
        set { self[SourceDateEpochService.self] = newValue }
    }
}
