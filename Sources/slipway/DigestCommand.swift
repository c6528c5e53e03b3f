import ArgumentParser
import Foundation
import SlipwayOCI

struct DigestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "digest", abstract: "Print the OCI digest (sha256:...) of files, streaming them.")

    @Argument(help: "Files to hash.") var files: [String]

    func run() throws {
        for file in files {
            guard let handle = FileHandle(forReadingAtPath: file) else {
                throw ErrorReporting.exit(for: InputError("\(file): cannot read"), verbose: false)
            }
            defer { try? handle.close() }
            var hasher = DigestHasher()
            while let chunk = try handle.read(upToCount: 4 << 20), !chunk.isEmpty { hasher.update(chunk) }
            print("\(hasher.finalize())  \(file)")
        }
    }
}
