import Foundation
import SlipwayTesting
import Testing

/// Every recipe in Recipes/ is planned, and run where it needs nothing outside this machine.
struct ShippedRecipeTests {
    static let root = CLITests.root
    static let recipes: [String] = {
        let folder = root.appendingPathComponent("Recipes")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".lua") }.sorted()
    }()

    @Test func thereAreRecipes() {
        #expect(Self.recipes.contains("hello.lua"))
    }

    @Test(arguments: recipes)
    func recipePlans(name: String) async throws {
        let result = try await CommandRunner.slipway().run(["plan", "Recipes/\(name)"], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("pipeline '"))
    }

    @Test func helloRecipeRuns() async throws {
        let result = try await CommandRunner.slipway().run(["run", "Recipes/hello.lua", "--set", "who=Test Suite"], in: Self.root)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[greet-test-suite] hello, Test Suite"))
        #expect(result.stderr.contains("[summary] all 3 regions warmed"))
    }
}
