/// Pressure stall information for memory, `/proc/pressure/memory` (Linux 4.20+,
/// Documentation/accounting/psi.rst):
///
///     some avg10=0.00 avg60=0.00 avg300=0.00 total=0
///     full avg10=0.00 avg60=0.00 avg300=0.00 total=0
///
/// "some": the share of time at least one task stalled waiting for memory; "full": the share of
/// time all non-idle tasks stalled at once, the figure that means the machine is thrashing.
public struct MemoryPressureReading: Sendable, Equatable {
    /// One line: the averages are percentages of wall time over 10 s, 60 s and 300 s.
    public struct Averages: Sendable, Equatable {
        public var avg10: Double
        public var avg60: Double
        public var avg300: Double
        /// Total stall time since boot, µs.
        public var totalMicroseconds: UInt64

        public init(avg10: Double, avg60: Double, avg300: Double, totalMicroseconds: UInt64) {
            self.avg10 = avg10
            self.avg60 = avg60
            self.avg300 = avg300
            self.totalMicroseconds = totalMicroseconds
        }
    }

    public var some: Averages?
    /// Absent on kernels before 5.x for some resources and on malformed files.
    public var full: Averages?

    public init(some: Averages?, full: Averages?) {
        self.some = some
        self.full = full
    }

    /// Parses the file's text; a line that lacks a field or has a malformed one is absent, and
    /// the whole reading is nil when neither line parses.
    public static func parse(_ text: String) -> MemoryPressureReading? {
        var some: Averages?, full: Averages?
        for line in text.split(whereSeparator: { $0 == "\n" }) {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard let kind = words.first, kind == "some" || kind == "full" else { continue }
            var fields: [Substring: Substring] = [:]
            for word in words.dropFirst() {
                let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if parts.count == 2 { fields[parts[0]] = parts[1] }
            }
            guard let avg10 = fields["avg10"].flatMap({ Double($0) }), let avg60 = fields["avg60"].flatMap({ Double($0) }),
                  let avg300 = fields["avg300"].flatMap({ Double($0) }),
                  let total = fields["total"].flatMap({ UInt64($0) }),
                  [avg10, avg60, avg300].allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 100 }) else { continue }
            let averages = Averages(avg10: avg10, avg60: avg60, avg300: avg300, totalMicroseconds: total)
            if kind == "some" { some = averages } else { full = averages }
        }
        if some == nil && full == nil { return nil }
        return MemoryPressureReading(some: some, full: full)
    }

    /// Reads `proc/pressure/memory` under the tree's root; nil without PSI (kernel built without
    /// it, `psi=0` on the command line) or when the file is malformed.
    static func read(_ tree: ReadingsFileTree) -> MemoryPressureReading? {
        tree.text("proc/pressure/memory").flatMap(parse)
    }
}
