import Foundation

/// A download's progress on a terminal's standard error, redrawn in place at most ten times a
/// second: `[#######.........]  45.2 MiB / 241.4 MiB  12.3 MiB/s  0:16 left`. The rate is over
/// the last few seconds. Silent when standard error is not a terminal (scripts, logs).
final class ProgressBar {
    private let isTerminal = isatty(STDERR_FILENO) == 1
    private var lastDraw = 0.0
    /// (seconds since start, bytes) samples of the last few seconds, for the rate.
    private var samples: [(time: Double, bytes: Int64)] = []
    private let start = Date()
    private var drawn = false

    func update(bytes: Int64, total: Int64?) {
        guard isTerminal else { return }
        let now = Date().timeIntervalSince(start)
        samples.append((now, bytes))
        samples.removeAll { now - $0.time > 5 }
        guard now - lastDraw >= 0.1 || (total.map { bytes >= $0 } ?? false) else { return }
        lastDraw = now
        drawn = true
        FileHandle.standardError.write(Data(("\r" + Self.line(bytes: bytes, total: total, rate: rate) + "\u{1B}[K").utf8))
    }

    /// Ends the line the bar was drawn on.
    func finish() {
        guard isTerminal, drawn else { return }
        FileHandle.standardError.write(Data("\n".utf8))
        drawn = false
    }

    /// Bytes per second over the samples kept.
    private var rate: Double? {
        guard let first = samples.first, let last = samples.last, last.time - first.time > 0.2 else { return nil }
        return Double(last.bytes - first.bytes) / (last.time - first.time)
    }

    static func line(bytes: Int64, total: Int64?, rate: Double?, width: Int = 24) -> String {
        var parts: [String] = []
        if let total, total > 0 {
            let filled = Int(Double(width) * min(1, Double(bytes) / Double(total)))
            parts.append("[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "]")
            parts.append("\(Format.bytes(Int(bytes))) / \(Format.bytes(Int(total)))")
        } else {
            parts.append(Format.bytes(Int(bytes)))
        }
        if let rate, rate > 0 {
            parts.append("\(Format.bytes(Int(rate)))/s")
            if let total, total > bytes {
                let seconds = Int(Double(total - bytes) / rate)
                parts.append(String(format: "%d:%02d left", seconds / 60, seconds % 60))
            }
        }
        return parts.joined(separator: "  ")
    }
}
