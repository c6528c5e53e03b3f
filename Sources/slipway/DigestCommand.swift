import ArgumentParser
import Foundation
import SlipwayOCI

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "Print the OCI digest (sha256:...) of files, streaming them.")

    @Argument(help: "Files to hash.") var files: [String]

    func run() throws {
        for file in files {
            do {
                print("\(try DigestHasher.digest(ofFile: URL(fileURLWithPath: file)))  \(file)")
            } catch {
                throw ErrorReporting.exit(for: InputError("\(file): cannot read"), verbose: false)
            }
        }
    }
}
