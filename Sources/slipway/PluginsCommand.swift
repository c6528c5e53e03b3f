import ArgumentParser
import Foundation
import SlipwayKernel

struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins", abstract: "List the plugin kinds recipes can use.")

    func run() throws {
        let registry = try BuiltinPlugins.registry()
        let width = registry.all.map(\.kind.count).max() ?? 0
        let roleWidth = registry.all.map(\.role.rawValue.count).max() ?? 0
        for entry in registry.all {
            print("\(entry.kind.padding(toLength: width, withPad: " ", startingAt: 0))  \(entry.role.rawValue.padding(toLength: roleWidth, withPad: " ", startingAt: 0))  \(entry.summary)")
        }
    }
}
