import Foundation
import SlipwayKernel

/// Reads a pipe to its end on a Dispatch thread (never the cooperative pool), handing on each
/// line as it arrives; returns everything read.
enum PipeLines {
    static func read(_ handle: FileHandle, each line: @escaping @Sendable (String) -> Void) async -> Data {
        await BlockingWork.run {
            var all = Data()
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                all.append(chunk)
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    line(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty { line(String(decoding: pending, as: UTF8.self)) }
            return all
        }
    }
}
