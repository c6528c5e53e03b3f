import Foundation
import SlipwayKernel

/// Writes log lines to stderr as `HH:MM:SS.mmm [step] text`, one write per line so lines of
/// parallel steps never interleave mid-line.
struct StderrLogSink: LogSink {
    var minimumLevel: LogLine.Level = .info

    func write(_ line: LogLine) {
        guard line.level >= minimumLevel else { return }
        let time = line.time.formatted(.iso8601.time(includingFractionalSeconds: true))
        let level = line.level == .info ? "" : "\(line.level.rawValue): "
        let text = "\(time) [\(line.step?.rawValue ?? "run")] \(level)\(line.text)\n"
        FileHandle.standardError.write(Data(text.utf8))
    }
}
