@testable import KansoTOML
import Testing

@Suite("Dates and times")
struct DateTimeTests {
    typealias LocalDate = TOMLDateTime.LocalDate
    typealias LocalTime = TOMLDateTime.LocalTime

    @Test func offsetDateTimes() {
        #expect(parsedValue("1979-05-27T07:32:00Z") == .dateTime(TOMLDateTime(
            kind: .offsetDateTime, text: "1979-05-27T07:32:00Z",
            date: LocalDate(year: 1979, month: 5, day: 27), time: LocalTime(hour: 7, minute: 32, second: 0),
            offsetMinutes: 0)))
        #expect(parsedValue("1979-05-27T00:32:00.999999-07:00") == .dateTime(TOMLDateTime(
            kind: .offsetDateTime, text: "1979-05-27T00:32:00.999999-07:00",
            date: LocalDate(year: 1979, month: 5, day: 27),
            time: LocalTime(hour: 0, minute: 32, second: 0, nanosecond: 999_999_000),
            offsetMinutes: -420)))
        #expect(parsedValue("1979-05-27T07:32:00.5+05:30")?.dateTimeValue?.offsetMinutes == 330)
    }

    @Test("TOML's RFC 3339 allowances", arguments: ["1979-05-27 07:32:00Z", "1979-05-27t07:32:00z"])
    func separatorsAndCase(text: String) {
        let dateTime = parsedValue(text)?.dateTimeValue
        #expect(dateTime?.kind == .offsetDateTime)
        #expect(dateTime?.text == text)
        #expect(dateTime?.time == LocalTime(hour: 7, minute: 32, second: 0))
    }

    @Test func localKinds() {
        #expect(parsedValue("1979-05-27T07:32:00") == .dateTime(TOMLDateTime(
            kind: .localDateTime, text: "1979-05-27T07:32:00",
            date: LocalDate(year: 1979, month: 5, day: 27), time: LocalTime(hour: 7, minute: 32, second: 0),
            offsetMinutes: nil)))
        #expect(parsedValue("1979-05-27") == .dateTime(TOMLDateTime(
            kind: .localDate, text: "1979-05-27",
            date: LocalDate(year: 1979, month: 5, day: 27), time: nil, offsetMinutes: nil)))
        #expect(parsedValue("00:32:00.999999") == .dateTime(TOMLDateTime(
            kind: .localTime, text: "00:32:00.999999",
            date: nil, time: LocalTime(hour: 0, minute: 32, second: 0, nanosecond: 999_999_000), offsetMinutes: nil)))
    }

    @Test func fractionBeyondNanosecondsIsTruncated() {
        #expect(parsedValue("07:32:00.1234567899")?.dateTimeValue?.time?.nanosecond == 123_456_789)
    }

    @Test func typeNamesFollowTheKind() {
        #expect(parsedValue("1979-05-27T07:32:00Z")?.typeName == "date-time")
        #expect(parsedValue("1979-05-27T07:32:00")?.typeName == "date-time")
        #expect(parsedValue("1979-05-27")?.typeName == "date")
        #expect(parsedValue("07:32:00")?.typeName == "time")
    }

    @Test func leapDaysAndLeapSeconds() {
        #expect(parsedValue("2000-02-29")?.dateTimeValue?.date == LocalDate(year: 2000, month: 2, day: 29))
        #expect(parsedValue("2024-02-29")?.dateTimeValue?.date == LocalDate(year: 2024, month: 2, day: 29))
        #expect(parsedValue("1990-12-31T23:59:60Z")?.dateTimeValue?.time?.second == 60)
    }

    @Test func aDateFollowedByACommentOrSpaceIsALocalDate() {
        let table = parsed("d = 1979-05-27 # birthday\nlist = [1979-05-27 , 1979-05-27 07:32:00]")
        #expect(table["d"]?.dateTimeValue?.kind == .localDate)
        #expect(table["list"]?.arrayValue?.map { $0.dateTimeValue?.kind } == [.localDate, .localDateTime])
    }

    @Test("date-time errors", arguments: [
        ("v = 1979-13-01", 1, 10, "month 13 is out of range 1-12"),
        ("v = 1979-00-01", 1, 10, "month 0 is out of range 1-12"),
        ("v = 1979-01-00", 1, 13, "day 0 is out of range 1-31"),
        ("v = 1979-02-29", 1, 13, "day 29 is out of range for month 2 of 1979 (1-28)"),
        ("v = 1900-02-29", 1, 13, "day 29 is out of range for month 2 of 1900 (1-28)"),
        ("v = 1979-04-31", 1, 13, "day 31 is out of range for month 4 of 1979 (1-30)"),
        ("v = 24:00:00", 1, 5, "hour 24 is out of range 0-23"),
        ("v = 23:60:00", 1, 8, "minute 60 is out of range 0-59"),
        ("v = 23:59:61", 1, 11, "second 61 is out of range 0-60"),
        ("v = 1979-05-27T07:32:00+24:00", 1, 25, "offset hour 24 is out of range 0-23"),
        ("v = 1979-05-27T07:32:00-00:60", 1, 28, "offset minute 60 is out of range 0-59"),
        ("v = 1979-05-27T07:32:00-0800", 1, 27, "expected ':' in a time offset, found '0'"),
        ("v = 07:32", 1, 10, "expected ':' in a time, found end of input"),
        ("v = 1979-05-27T", 1, 16, "expected a 2-digit hour, found end of input"),
        ("v = 1979-05-27 07:32", 1, 21, "expected ':' in a time, found end of input"),
        ("v = 1979-5-27", 1, 11, "expected a 2-digit month, found '-'"),
        ("v = 07:32:00Z", 1, 13, "unexpected 'Z' in a date-time"),
        ("v = 1979-05-27T07:32:00.", 1, 25, "expected a digit after the decimal point in a time"),
        ("v = 1979-05-27X", 1, 15, "unexpected 'X' in a date-time"),
    ])
    func dateTimeErrors(text: String, line: Int, column: Int, message: String) {
        #expect(parseError(text) == TOMLParseError(line: line, column: column, message: message))
    }
}
