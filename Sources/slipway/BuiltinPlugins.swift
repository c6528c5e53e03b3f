import BuildContexts
import ContainerSteps
import DockerfileBuilder
import Patching
import RegistryPublisher
import SlipwayKernel
import Triggers
import UtilitySteps

/// Every plugin this binary ships with. Static on purpose: no discovery at run time.
enum BuiltinPlugins {
    static let all: [any PluginKind.Type] = UtilitySteps.all + [
        BuildStep.self, NativeBuilder.self, BuildahBuilder.self, PushStep.self, GitContext.self, TarballContext.self, CmdStep.self, CommitTrigger.self, ScheduleTrigger.self, BaseImageTrigger.self, PullRequestTrigger.self, RebaseStep.self, PatchStep.self,
    ]

    static func registry() throws -> PluginRegistry {
        var registry = PluginRegistry()
        try registry.register(all)
        return registry
    }
}
