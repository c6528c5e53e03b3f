import Foundation
import SlipwayRuntime

/// Pictures drawn server-side by Graphviz (`dot -Tsvg`, Debian's `graphviz`): DOT text in, SVG
/// out. `dot` runs as an ``ExternalCommand`` (off the cooperative pool), and is killed after
/// ten seconds.
enum Graphviz {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func svg(_ dot: String) async throws -> String {
        var dotCommand = ExternalCommand("dot", ["-Tsvg"])
        dotCommand.input = Data(dot.utf8)
        let command = dotCommand
        let whole = try await withThrowingTaskGroup(of: String?.self) { group in
            group.addTask { try await command.run().stdout }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return nil
            }
            // The first to finish wins; cancelling the other kills dot if it is still drawing.
            defer { group.cancelAll() }
            guard let svg = try await group.next() ?? nil else { throw Failure(description: "dot took more than 10 s to draw the graph") }
            return svg
        }
        // The SVG alone, without the XML prologue and doctype, to sit inside the page.
        return whole.range(of: "<svg").map { String(whole[$0.lowerBound...]) } ?? whole
    }

    /// A DOT string literal.
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ") + "\""
    }
}
