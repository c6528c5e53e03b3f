public import SlipwayKernel

/// The utility steps shipped with Slipway.
public enum UtilitySteps {
    public static let all: [any PluginKind.Type] = [EchoStep.self, SleepStep.self, FailStep.self]
}
