/// Streams generated text while watching for stop strings: text that might be the start of a stop
/// string is held back until it is clear, and once one appears everything from it on is dropped.
struct StopStringFilter {
    let stops: [String]
    private var pending = ""
    private(set) var stopped = false

    init(stops: [String]) {
        self.stops = stops.filter { !$0.isEmpty }
    }

    /// Adds generated text; returns what may be shown now.
    mutating func append(_ text: String) -> String {
        guard !stopped else { return "" }
        pending += text
        if let cut = stops.compactMap({ pending.firstRange(of: $0)?.lowerBound }).min() {
            stopped = true
            let shown = String(pending[..<cut])
            pending = ""
            return shown
        }
        // Hold back the longest tail that is a proper prefix of some stop string.
        var hold = 0
        for stop in stops {
            for length in stride(from: min(stop.count - 1, pending.count), to: 0, by: -1)
            where pending.hasSuffix(stop.prefix(length)) {
                hold = max(hold, length)
                break
            }
        }
        let shown = String(pending.dropLast(hold))
        pending = String(pending.suffix(hold))
        return shown
    }

    /// The held-back text once generation ends without a stop string.
    mutating func finish() -> String {
        defer { pending = "" }
        return stopped ? "" : pending
    }
}
