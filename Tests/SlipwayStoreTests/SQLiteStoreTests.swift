import Foundation
import SlipwayEngine
import SlipwayKernel
import SlipwayStore
import SlipwayTesting
import Testing

/// What only the SQLite store has: a file in WAL mode, migrations that run once, and bytes on
/// disk that can be searched for a secret.
struct SQLiteStoreTests {
    @Test func reopeningKeepsTheDataAndTheFileIsInWALMode() async throws {
        let path = Scratch.location("sqlite").appendingPathComponent("slipway.sqlite").path
        let first = try SQLiteStore(path: path)
        try await first.setCursor("v1", trigger: "schedule", key: "nightly")
        let second = try SQLiteStore(path: path)
        #expect(try await second.cursor(trigger: "schedule", key: "nightly") == "v1")
        #expect(FileManager.default.fileExists(atPath: path + "-wal"))
    }

    /// Many slipway processes may open a new store at the same moment (parallel `slipway run`s
    /// on a fresh machine): every one of them gets a migrated store. Before, the loser of the
    /// race failed with "table run already exists".
    @Test func storesOpenedAtOnceAllMigrate() async throws {
        let path = Scratch.location("sqlite").appendingPathComponent("slipway.sqlite").path
        let opened = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    await BlockingWork.run { (try? SQLiteStore(path: path)) != nil }
                }
            }
            return await group.reduce(into: 0) { $0 += $1 ? 1 : 0 }
        }
        #expect(opened == 8)
        #expect(try await SQLiteStore(path: path).tasks().isEmpty)
    }

    /// A run that logs its secret, recorded: the secret is in no byte of the database or its
    /// write-ahead log.
    @Test func noSecretIsWrittenInClear() async throws {
        let folder = Scratch.location("sqlite")
        let store = try SQLiteStore(path: folder.appendingPathComponent("slipway.sqlite").path)
        let recorder = StoreRecorder(store: store)
        var options = StepOptions()
        options.secrets = ["token"]
        let step = StepDefinition(
            id: StepID("leaky"), kind: "test.step", configuration: .object(["log_secret": .string("token")]), options: options,
            location: SourceLocation(file: "store.lua", line: 1))
        let report = try await PipelineRunner(registry: TestRegistry.make(), options: RunOptions(secrets: ["token": "s3cr3t-value-77"], observers: [recorder]))
            .run(PipelineDefinition(name: "leak", steps: [step], location: SourceLocation(file: "store.lua", line: 1)), info: RunInfo(id: "r"))
        try await recorder.finish()
        #expect(report.status == .succeeded)
        #expect(try await store.events(ofRun: "r", after: 0).contains { $0.text?.contains("***") == true })
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) {
            let data = try Data(contentsOf: folder.appendingPathComponent(file))
            #expect(data.range(of: Data("s3cr3t-value-77".utf8)) == nil, "\(file) holds the secret")
        }
    }
}
