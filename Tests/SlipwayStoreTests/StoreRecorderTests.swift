import Foundation
import SlipwayKernel
import SlipwayStore
import SlipwayTesting
import Testing

/// The recorder opens its store while the run goes on; a store that cannot be opened is
/// reported when the recorder finishes, not silently lost.
struct StoreRecorderTests {
    struct Unopenable: Error {}

    @Test func aStoreThatCannotBeOpenedIsReportedAtFinish() async throws {
        let recorder = StoreRecorder { throw Unopenable() }
        recorder.observe(RunEvent(kind: .runQueued, run: "r", sequence: 1, time: Date()))
        await #expect(throws: Unopenable.self) { try await recorder.finish() }
    }

    @Test func eventsObservedBeforeTheStoreIsOpenAreStored() async throws {
        let path = Scratch.location("recorder")
        let recorder = StoreRecorder {
            Thread.sleep(forTimeInterval: 0.1)  // the run has started and emitted events by now
            return try SQLiteStore(path: path.appendingPathComponent("slipway.sqlite").path)
        }
        for sequence in 1...3 { recorder.observe(RunEvent(kind: sequence == 1 ? .runQueued : .log, run: "r", sequence: sequence, time: Date())) }
        try await recorder.finish()
        let store = try SQLiteStore(path: path.appendingPathComponent("slipway.sqlite").path)
        #expect(try await store.events(ofRun: "r", after: 0).map(\.sequence) == [1, 2, 3])
    }
}
