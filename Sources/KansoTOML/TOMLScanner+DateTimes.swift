// Offset date-time, local date-time, local date and local time (RFC 3339 as TOML 1.0 allows it:
// `T`, `t` or a space between date and time; `Z` or `z`; any number of fractional-second digits).

extension TOMLScanner {
    /// YYYY- starts a date.
    var isAtDate: Bool {
        (0..<4).allSatisfy { Self.isDecimalDigit(peek($0)) } && peek(4) == "-"
    }

    /// HH: starts a time.
    var isAtTime: Bool {
        Self.isDecimalDigit(peek(0)) && Self.isDecimalDigit(peek(1)) && peek(2) == ":"
    }

    mutating func scanDateTime() throws(TOMLParseError) -> TOMLValue {
        let startIndex = index
        var date: TOMLDateTime.LocalDate?
        var time: TOMLDateTime.LocalTime?
        var offsetMinutes: Int?
        if isAtDate {
            date = try scanLocalDate()
            let hasTime = current == "T" || current == "t" || (current == " " && isTimeAfterSpace)
            if hasTime {
                advance()
                time = try scanLocalTime()
                offsetMinutes = try scanOffsetIfPresent()
            }
        } else {
            time = try scanLocalTime()
        }
        if Self.isBareKeyCharacter(current) || current == "." || current == ":" || current == "+" {
            throw error("unexpected \(Self.describe(current)) in a date-time")
        }
        let kind: TOMLDateTime.Kind = switch (date != nil, time != nil, offsetMinutes != nil) {
        case (true, true, true): .offsetDateTime
        case (true, true, false): .localDateTime
        case (true, false, _): .localDate
        default: .localTime
        }
        return .dateTime(TOMLDateTime(kind: kind, text: text(from: startIndex), date: date, time: time, offsetMinutes: offsetMinutes))
    }

    /// "1979-05-27 07:32:00": a space separates date and time only when a time follows.
    private var isTimeAfterSpace: Bool {
        Self.isDecimalDigit(peek(1)) && Self.isDecimalDigit(peek(2)) && peek(3) == ":"
    }

    private mutating func scanLocalDate() throws(TOMLParseError) -> TOMLDateTime.LocalDate {
        let year = try scanField(digits: 4, name: "year", range: 0...9999)
        try expect("-", in: "a date")
        let month = try scanField(digits: 2, name: "month", range: 1...12)
        try expect("-", in: "a date")
        let dayPosition = position
        let day = try scanField(digits: 2, name: "day", range: 1...31)
        let daysInMonth = TOMLDateTime.numberOfDays(inMonth: month, ofYear: year)
        guard day <= daysInMonth else {
            throw TOMLParseError(at: dayPosition, "day \(day) is out of range for month \(month) of \(year) (1-\(daysInMonth))")
        }
        return TOMLDateTime.LocalDate(year: year, month: month, day: day)
    }

    /// HH:MM:SS[.fraction]; seconds are required in TOML 1.0.
    private mutating func scanLocalTime() throws(TOMLParseError) -> TOMLDateTime.LocalTime {
        let hour = try scanField(digits: 2, name: "hour", range: 0...23)
        try expect(":", in: "a time")
        let minute = try scanField(digits: 2, name: "minute", range: 0...59)
        try expect(":", in: "a time")
        let second = try scanField(digits: 2, name: "second", range: 0...60)
        var nanosecond = 0
        if current == "." {
            advance()
            guard Self.isDecimalDigit(current) else { throw error("expected a digit after the decimal point in a time") }
            var digitCount = 0
            while let scalar = current, Self.isDecimalDigit(scalar) {
                if digitCount < 9 { nanosecond = nanosecond * 10 + Int(scalar.value - 0x30) }
                digitCount += 1
                advance()
            }
            for _ in digitCount..<max(digitCount, 9) { nanosecond *= 10 }
        }
        return TOMLDateTime.LocalTime(hour: hour, minute: minute, second: second, nanosecond: nanosecond)
    }

    /// Z, z, or +HH:MM / -HH:MM; nil when the date-time is local.
    private mutating func scanOffsetIfPresent() throws(TOMLParseError) -> Int? {
        if current == "Z" || current == "z" {
            advance()
            return 0
        }
        guard current == "+" || current == "-" else { return nil }
        let isNegative = current == "-"
        advance()
        let hours = try scanField(digits: 2, name: "offset hour", range: 0...23)
        try expect(":", in: "a time offset")
        let minutes = try scanField(digits: 2, name: "offset minute", range: 0...59)
        let total = hours * 60 + minutes
        return isNegative ? -total : total
    }

    /// Exactly `digits` decimal digits whose value lies in `range`.
    private mutating func scanField(digits: Int, name: String, range: ClosedRange<Int>) throws(TOMLParseError) -> Int {
        let start = position
        var value = 0
        for _ in 0..<digits {
            guard let scalar = current, Self.isDecimalDigit(scalar) else {
                throw error("expected a \(digits)-digit \(name), found \(Self.describe(current))")
            }
            value = value * 10 + Int(scalar.value - 0x30)
            advance()
        }
        guard range.contains(value) else {
            throw TOMLParseError(at: start, "\(name) \(value) is out of range \(range.lowerBound)-\(range.upperBound)")
        }
        return value
    }

    private mutating func expect(_ separator: Unicode.Scalar, in construct: String) throws(TOMLParseError) {
        guard current == separator else {
            throw error("expected '\(separator)' in \(construct), found \(Self.describe(current))")
        }
        advance()
    }
}
