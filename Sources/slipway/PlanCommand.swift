import ArgumentParser
import Foundation
import SlipwayKernel
import SlipwayACR
import SlipwayLua

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show the graph a recipe describes, without running anything.",
        discussion: "Steps are grouped in stages: steps of one stage do not depend on each other and run in parallel.")

    enum Format: String, EnumerableFlag {
        case text, json, dot
        static func help(for value: Format) -> ArgumentHelp? {
            switch value {
            case .text: "Readable stages (the default)."
            case .json: "The pipeline definition as JSON."
            case .dot: "A Graphviz graph (pipe into `dot -Tsvg`)."
            }
        }
    }

    @OptionGroup var recipe: RecipeOptions
    @Flag(exclusivity: .exclusive) var format: Format = .text

    func run() async throws {
        do {
            let registry = try BuiltinPlugins.registry()
            let info = try await recipe.runInfo(id: "plan")
            let pipeline: PipelineDefinition
            var task: TaskDefinition?
            if recipe.isTaskFile {
                pipeline = try recipe.taskFile(run: info, secrets: [:]).pipeline
            } else {
                let session = try recipe.session(registry: registry, run: info)
                pipeline = try await session.pipeline(for: info).0
                if case .task(let definition) = session.recipe { task = definition }
            }
            switch format {
            case .text: print(PlanRenderer.text(pipeline, task: task), terminator: "")
            case .dot: print(PlanRenderer.dot(pipeline), terminator: "")
            case .json: print(try PlanRenderer.json(pipeline, task: task))
            }
        } catch {
            throw ErrorReporting.exit(for: error, verbose: recipe.verbose)
        }
    }
}
