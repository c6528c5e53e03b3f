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

/// How builds find their bases when the host says nothing per build: the store's copy when it
/// has one (`slipway build`, like `docker build`), or always the registry's (`slipway serve`,
/// whose base-image triggers exist because bases move).
public enum BasePolicy: Sendable {
    case preferStore, alwaysResolve
}

public enum BasePolicyService: HostServiceKey { public typealias Value = BasePolicy }

extension HostServices {
    public var basePolicy: BasePolicy {
        get { self[BasePolicyService.self] ?? .preferStore }
        set { self[BasePolicyService.self] = newValue }
    }
}
