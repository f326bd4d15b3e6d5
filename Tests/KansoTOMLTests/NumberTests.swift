@testable import KansoTOML
import Testing

@Suite("Integers and floats")
struct NumberTests {
    @Test("integers", arguments: [
        ("+99", 99), ("42", 42), ("0", 0), ("-17", -17), ("+0", 0), ("-0", 0),
        ("1_000", 1000), ("5_349_221", 5_349_221), ("1_2_3_4_5", 12345),
        ("0xDEADBEEF", 0xDEAD_BEEF), ("0xdead_beef", 0xDEAD_BEEF), ("0x00ff", 255),
        ("0o01234567", 0o1234567), ("0o755", 0o755), ("0b11010110", 0b1101_0110), ("0b0", 0),
        ("9223372036854775807", Int.max), ("-9223372036854775808", Int.min),
        ("0x7FFFFFFFFFFFFFFF", Int.max),
    ])
    func integers(text: String, expected: Int) {
        #expect(parsedValue(text) == .integer(expected))
    }

    @Test("floats", arguments: [
        ("+1.0", 1.0), ("3.1415", 3.1415), ("-0.01", -0.01), ("5e+22", 5e22), ("1e06", 1e6),
        ("-2E-2", -0.02), ("6.626e-34", 6.626e-34), ("224_617.445_991_228", 224_617.445_991_228),
        ("0e0", 0), ("0.0", 0), ("1e1_0", 1e10), ("inf", .infinity), ("+inf", .infinity), ("-inf", -.infinity),
    ])
    func floats(text: String, expected: Double) {
        #expect(parsedValue(text) == .float(expected))
    }

    @Test func negativeZeroKeepsItsSign() {
        #expect(parsedValue("-0.0")?.floatValue?.sign == .minus)
    }

    @Test func notANumberInAllSigns() {
        for text in ["nan", "+nan", "-nan"] {
            #expect(parsedValue(text)?.floatValue?.isNaN == true, "\(text)")
        }
    }

    @Test("number errors", arguments: [
        ("v = 9223372036854775808", 1, 5, "integer does not fit in 64 bits"),
        ("v = -9223372036854775809", 1, 5, "integer does not fit in 64 bits"),
        ("v = 0x8000000000000000", 1, 5, "integer does not fit in 64 bits"),
        ("v = +0x1", 1, 5, "hexadecimal, octal and binary integers cannot have a sign"),
        ("v = -0b1", 1, 5, "hexadecimal, octal and binary integers cannot have a sign"),
        ("v = 01", 1, 5, "leading zeros are not allowed in a decimal number"),
        ("v = -0_0", 1, 6, "leading zeros are not allowed in a decimal number"),
        ("v = 01.5", 1, 5, "leading zeros are not allowed in a decimal number"),
        ("v = 1__0", 1, 7, "an underscore in a number must be followed by a digit"),
        ("v = 1_", 1, 7, "an underscore in a number must be followed by a digit"),
        ("v = 1_.5", 1, 7, "an underscore in a number must be followed by a digit"),
        ("v = 0x_1", 1, 7, "expected a digit, found '_'"),
        ("v = 0x", 1, 7, "expected a digit, found end of input"),
        ("v = 0o8", 1, 7, "expected a digit, found '8'"),
        ("v = 0b102", 1, 9, "unexpected '2' in a number"),
        ("v = 0X1", 1, 6, "unexpected 'X' in a number"),
        ("v = 12ab", 1, 7, "unexpected 'a' in a number"),
        ("v = 1.2.3", 1, 8, "unexpected '.' in a number"),
        ("v = 7.", 1, 7, "expected a digit after the decimal point"),
        ("v = 1._5", 1, 7, "expected a digit after the decimal point"),
        ("v = 3.e+20", 1, 7, "expected a digit after the decimal point"),
        ("v = 1e", 1, 7, "expected a digit in the exponent"),
        ("v = 1e_1", 1, 7, "expected a digit in the exponent"),
        ("v = infinity", 1, 8, "unexpected 'i' in a number"),
        ("v = .7", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found '.'"),
        ("v = _1", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found '_'"),
        ("v = Nan", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found 'N'"),
        ("v = +-1", 1, 5, "expected a value (string, number, boolean, date-time, array or inline table), found '+'"),
    ])
    func numberErrors(text: String, line: Int, column: Int, message: String) {
        #expect(parseError(text) == TOMLParseError(line: line, column: column, message: message))
    }
}
