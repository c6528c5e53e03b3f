import Foundation
import SlipwayKernel
@testable import SlipwayLua
import SlipwayTesting
import UtilitySteps

/// Helpers shared by the recipe tests: fixture paths, throwaway recipe files, a registry.
enum RecipeFixtures {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/Recipes")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    static func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

    static func registry() throws -> PluginRegistry { try TestRegistry.make(adding: UtilitySteps.all) }

    /// A fresh folder with `files` (name → text); returns the folder.
    static func folder(_ files: [String: String]) throws -> URL { try Scratch.files(files, label: "lua") }

    /// Writes `text` as `recipe.lua` in a fresh folder and evaluates it.
    static func session(
        _ text: String, values: ConfigValue = .object([:]), limits: RecipeLimits = RecipeLimits(), extraFiles: [String: String] = [:],
        libraryRoots: [String] = []
    ) throws -> RecipeSession {
        let folder = try folder(extraFiles.merging(["recipe.lua": text]) { a, _ in a })
        return try RecipeSession(
            file: folder.appendingPathComponent("recipe.lua").path, registry: registry(), run: RunInfo(id: "test", values: values),
            limits: limits, libraryRoots: libraryRoots)
    }

    static func pipeline(_ text: String, values: ConfigValue = .object([:])) throws -> PipelineDefinition {
        guard case .pipeline(let pipeline) = try session(text, values: values).recipe else {
            throw RecipeError(kind: .invalid, location: SourceLocation(file: "test", line: 0), message: "not a pipeline")
        }
        return pipeline
    }

    /// Evaluates and returns the RecipeError it must throw.
    static func recipeError(_ body: () throws -> Any) -> RecipeError? {
        do {
            _ = try body()
            return nil
        } catch let error as RecipeError {
            return error
        } catch {
            return nil
        }
    }
}
