import Foundation
import SlipwayStore

/// Every run `slipway run` and `slipway build` make is recorded — its steps, events and log
/// lines, already masked — in the state directory's store (`<state>/slipway.sqlite`), the same
/// store `slipway serve` will read and write.
enum RunHistory {
    /// The store is opened while the run starts, not before it.
    static func recorder(in state: URL) -> StoreRecorder {
        StoreRecorder { try SQLiteStore.inStateDirectory(state) }
    }

    /// Waits until the run is stored. A store that failed does not change the run's outcome;
    /// it is reported.
    static func finish(_ recorder: StoreRecorder) async {
        do {
            try await recorder.finish()
        } catch {
            FileHandle.standardError.write(Data("warning: the run was not fully recorded in the state store: \(error)\n".utf8))
        }
    }
}
