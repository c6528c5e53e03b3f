import ArgumentParser

@main
struct Slipway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slipway",
        abstract: "Build, patch and publish container images with pipelines written in Lua.",
        discussion: """
            Results go to stdout, logs and progress to stderr. Exit status: 0 success, 64 invalid \
            input (a bad recipe, flag or value), 1 a run that failed.
            """,
        version: SlipwayVersion.current,
        subcommands: [
            BuildCommand.self, RunCommand.self, PlanCommand.self, ImageCommand.self, PluginsCommand.self, DigestCommand.self, ServeCommand.self, TaskCommand.self,
            RunsCommand.self, LogsCommand.self, CancelCommand.self, DepsCommand.self, VersionCommand.self,
        ])
}

enum SlipwayVersion {
    static let current = "0.1.0"
}

struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print Slipway's version.")

    func run() {
        print("slipway \(SlipwayVersion.current)")
    }
}
