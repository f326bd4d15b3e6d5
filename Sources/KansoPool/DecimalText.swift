/// Numbers as the status lines and journal messages print them: a fixed count of decimals
/// ("%.1f") and the shortest form ("%g"-like), without Foundation's String(format:).
public enum DecimalText {
    /// `value` rounded half away from zero to `places` decimals (0...9): fixed(2.25, 1) = "2.3".
    public static func fixed(_ value: Double, places: Int) -> String {
        guard value.isFinite else { return value.isNaN ? "nan" : (value < 0 ? "-inf" : "inf") }
        let places = min(max(places, 0), 9)
        var scale: Double = 1
        for _ in 0..<places { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e15 else { return String(value) }  // beyond exact integers in a Double
        let digits = String(UInt64(scaled))
        let sign = value < 0 && scaled > 0 ? "-" : ""
        guard places > 0 else { return sign + digits }
        let padded = String(repeating: "0", count: max(0, places + 1 - digits.count)) + digits
        return sign + padded.dropLast(places) + "." + padded.suffix(places)
    }

    /// The shortest text that reads back as `value`, without a trailing ".0": 1 → "1", 0.5 → "0.5".
    public static func compact(_ value: Double) -> String {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 { return String(Int64(value)) }
        return String(value)
    }
}
