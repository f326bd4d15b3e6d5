/// A TOML date and/or time (RFC 3339 with TOML's allowances), keeping both the parsed fields
/// and the exact text it was written as. No time-zone arithmetic is done: the fields are as written.
public struct TOMLDateTime: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case offsetDateTime  // 1979-05-27T07:32:00-08:00
        case localDateTime   // 1979-05-27T07:32:00
        case localDate       // 1979-05-27
        case localTime       // 07:32:00

        /// As reported by `TOMLValue.typeName`.
        public var typeName: String {
            switch self {
            case .offsetDateTime, .localDateTime: "date-time"
            case .localDate: "date"
            case .localTime: "time"
            }
        }
    }

    public struct LocalDate: Sendable, Equatable {
        public let year: Int   // 0...9999
        public let month: Int  // 1...12
        public let day: Int    // 1...28/29/30/31, valid for the month and year

        public init(year: Int, month: Int, day: Int) {
            self.year = year
            self.month = month
            self.day = day
        }
    }

    public struct LocalTime: Sendable, Equatable {
        public let hour: Int        // 0...23
        public let minute: Int      // 0...59
        public let second: Int      // 0...60 (60: leap second)
        public let nanosecond: Int  // 0...999_999_999; digits beyond nanoseconds are truncated

        public init(hour: Int, minute: Int, second: Int, nanosecond: Int = 0) {
            self.hour = hour
            self.minute = minute
            self.second = second
            self.nanosecond = nanosecond
        }
    }

    public let kind: Kind
    /// Exactly as written in the document, e.g. "1979-05-27 07:32:00.999z".
    public let text: String
    /// Present for every kind except `.localTime`.
    public let date: LocalDate?
    /// Present for every kind except `.localDate`.
    public let time: LocalTime?
    /// Minutes east of UTC (`Z` is 0, `-08:00` is -480); present only for `.offsetDateTime`.
    public let offsetMinutes: Int?

    public init(kind: Kind, text: String, date: LocalDate?, time: LocalTime?, offsetMinutes: Int?) {
        self.kind = kind
        self.text = text
        self.date = date
        self.time = time
        self.offsetMinutes = offsetMinutes
    }

    public var description: String { text }

    /// Gregorian calendar: February has 29 days in years divisible by 4, except centuries not divisible by 400.
    static func numberOfDays(inMonth month: Int, ofYear year: Int) -> Int {
        switch month {
        case 2:
            let isLeapYear = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return isLeapYear ? 29 : 28
        case 4, 6, 9, 11:
            return 30
        default:
            return 31
        }
    }
}
