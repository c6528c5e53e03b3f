import Foundation
import SlipwayKernel

/// Reads a pipe to its end on a thread of its own (``BlockingWork/wait(_:)``), handing on each
/// line as it arrives. Only the lines the caller asks to keep are held in memory, so a build
/// step that prints gigabytes costs no more than one that prints nothing.
enum PipeLines {
    /// - Parameter line: called for each line; returns whether to keep it.
    /// - Returns: the kept lines, in order.
    static func read(_ handle: FileHandle, each line: @escaping @Sendable (String) -> Bool) async -> [String] {
        await BlockingWork.wait {
            var kept: [String] = []
            var pending = Data()
            func emit(_ bytes: Data) {
                let text = String(decoding: bytes, as: UTF8.self)
                if line(text) { kept.append(text) }
            }
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    emit(pending[pending.startIndex..<newline])
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty { emit(pending) }
            return kept
        }
    }
}
