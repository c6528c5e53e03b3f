// Runs BuildKit's own front-end cases against Slipway's Dockerfile grammar and shell lexer
// and prints how many give BuildKit's result. The cases stay in BuildKit's repository:
// `Scripts/buildkit-conformance.sh` extracts them from a checkout; nothing of theirs is
// committed here.
//
//   slipway-conformance DIR   (DIR holds parser/testfiles, parser/testfiles-negative,
//                              shell/envVarTest and shell/wordsTest)
import Foundation
import SlipwayDockerfile

struct Tally {
    var name: String
    var passed = 0
    var failures: [String] = []

    mutating func record(_ ok: Bool, _ detail: @autoclosure () -> String) {
        if ok { passed += 1 } else { failures.append(detail()) }
    }

    var total: Int { passed + failures.count }
}

func read(_ url: URL) -> String? { try? String(contentsOf: url, encoding: .utf8) }

func folders(_ url: URL) -> [URL] {
    ((try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)) ?? [])
        .filter { (try? $0.resourceValues(forKeys: [.isDirectoryKey]).isDirectory) == true }
        .sorted { $0.lastPathComponent < $1.lastPathComponent }
}

func parserCases(_ root: URL) -> Tally {
    var tally = Tally(name: "parser testfiles")
    for folder in folders(root.appendingPathComponent("parser/testfiles")) {
        guard let text = read(folder.appendingPathComponent("Dockerfile")),
            let expected = read(folder.appendingPathComponent("result"))
        else { continue }
        let want = expected.split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        do {
            let got = try SyntaxTree.parse(text).nodes.map { "(\($0.sExpression))" }
            tally.record(got == want, "\(folder.lastPathComponent): got\n  \(got.joined(separator: "\n  "))\nwant\n  \(want.joined(separator: "\n  "))")
        } catch {
            tally.record(false, "\(folder.lastPathComponent): \(error)")
        }
    }
    return tally
}

func negativeParserCases(_ root: URL) -> Tally {
    var tally = Tally(name: "parser testfiles-negative")
    for folder in folders(root.appendingPathComponent("parser/testfiles-negative")) {
        guard let text = read(folder.appendingPathComponent("Dockerfile")) else { continue }
        let result = Result { try SyntaxTree.parse(text) }
        if case .success(let tree) = result {
            tally.record(false, "\(folder.lastPathComponent): parsed as \(tree.sExpressions)")
        } else {
            tally.record(true, "")
        }
    }
    return tally
}

func envVarCases(_ root: URL) -> Tally {
    var tally = Tally(name: "shell envVarTest")
    guard let text = read(root.appendingPathComponent("shell/envVarTest")) else { return tally }
    let words = ShellWords(environment: ["PWD": "/home", "SHELL": "bash", "KOREAN": "한국어", "NULL": ""])
    for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        guard !line.hasPrefix("#") else { continue }
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else { continue }
        let fields = trimmed.split(separator: "|", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard fields.count == 3, fields[0] == "A" || fields[0] == "U" else { continue }
        let source = fields[1], expected = fields[2]
        let got = Result { try words.word(source) }
        switch got {
        case .success(let value): tally.record(expected != "error" && value == expected, "line \(number + 1): \(source) gave '\(value)', want '\(expected)'")
        case .failure(let error): tally.record(expected == "error", "line \(number + 1): \(source) failed (\(error)), want '\(expected)'")
        }
    }
    return tally
}

func wordsCases(_ root: URL) -> Tally {
    var tally = Tally(name: "shell wordsTest")
    guard let text = read(root.appendingPathComponent("shell/wordsTest")) else { return tally }
    // (BuildKit's test loops over a second mode, but its scanner is spent by then: one pass.)
    do {
        var environment: [String: String] = [:]
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.hasPrefix("#"), !line.isEmpty else { continue }
            if line.hasPrefix("ENV ") {
                let assignment = line.dropFirst(3).drop { $0 == " " }
                let key = assignment.prefix { $0 != "=" }
                environment[String(key)] = String(assignment.dropFirst(key.count + 1))
                continue
            }
            let fields = line.split(separator: "|", omittingEmptySubsequences: false)
            guard fields.count == 2 else { continue }
            let source = fields[0].trimmingCharacters(in: .whitespaces)
            let expected = fields[1].drop { $0 == " " }.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            let words = ShellWords(environment: environment)
            let got = (try? words.words(source)) ?? ["error"]
            tally.record(got == expected, "line \(number + 1): \(source) gave \(got), want \(expected)")
        }
    }
    return tally
}

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: slipway-conformance DIR\n".utf8))
    exit(2)
}
let root = URL(fileURLWithPath: arguments[1])
let tallies = [parserCases(root), negativeParserCases(root), envVarCases(root), wordsCases(root)]
let verbose = ProcessInfo.processInfo.environment["VERBOSE"] != nil
for tally in tallies {
    print("\(tally.name): \(tally.passed)/\(tally.total) give BuildKit's result")
    if verbose { for failure in tally.failures { print("  ✗ " + failure.replacingOccurrences(of: "\n", with: "\n    ")) } }
}
let failed = tallies.reduce(0) { $0 + $1.failures.count }
if tallies.contains(where: { $0.total == 0 }) {
    print("some tables were not found under \(root.path)")
    exit(2)
}
exit(failed == 0 ? 0 : 1)
