import Foundation
import SlipwayKernel

/// Pictures drawn server-side by Graphviz (`dot -Tsvg`, Debian's `graphviz`): DOT text in, SVG
/// out. `dot` runs as a child process, off the cooperative pool, with a time limit.
enum Graphviz {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func svg(_ dot: String) async throws -> String {
        try await BlockingWork.run {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/dot")
            process.arguments = ["-Tsvg"]
            let input = Pipe()
            let output = Pipe()
            let errors = Pipe()
            process.standardInput = input
            process.standardOutput = output
            process.standardError = errors
            do {
                try process.run()
            } catch {
                throw Failure(description: "cannot run Graphviz's dot (apt-get install graphviz): \(error)")
            }
            let timer = DispatchWorkItem { if process.isRunning { process.terminate() } }
            DispatchQueue.global().asyncAfter(deadline: .now() + 10, execute: timer)
            defer { timer.cancel() }
            // Written on its own thread: a large graph fills the pipe before dot starts reading.
            let text = Data(dot.utf8)
            DispatchQueue.global().async {
                input.fileHandleForWriting.write(text)
                try? input.fileHandleForWriting.close()
            }
            let svg = output.fileHandleForReading.readDataToEndOfFile()
            let message = errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw Failure(description: "dot failed (\(process.terminationStatus)): \(String(decoding: message, as: UTF8.self))")
            }
            // The SVG alone, without the XML prologue and doctype, to sit inside the page.
            let whole = String(decoding: svg, as: UTF8.self)
            return whole.range(of: "<svg").map { String(whole[$0.lowerBound...]) } ?? whole
        }
    }

    /// A DOT string literal.
    static func quote(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"").replacingOccurrences(of: "\n", with: " ") + "\""
    }
}
