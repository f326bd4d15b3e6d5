// Integers (decimal, 0x hex, 0o octal, 0b binary) and floats (fraction, exponent, inf, nan).
// Underscores may only sit between two digits; decimal integers have no leading zeros.

extension TOMLScanner {
    /// Scans an integer or float; the scanner is at a digit, a sign, `inf` or `nan`.
    mutating func scanNumber() throws(TOMLParseError) -> TOMLValue {
        let start = position
        var sign: Unicode.Scalar?
        if current == "+" || current == "-" {
            sign = current
            advance()
        }
        if isLooking(at: "inf") || isLooking(at: "nan") {
            let isNaN = current == "n"
            advance(by: 3)
            try rejectTrailingNumberCharacters()
            if isNaN { return .float(.nan) }
            return .float(sign == "-" ? -.infinity : .infinity)
        }
        if current == "0", let radix = Self.radix(forPrefix: peek(1)) {
            guard sign == nil else {
                throw TOMLParseError(at: start, "hexadecimal, octal and binary integers cannot have a sign")
            }
            advance(by: 2)
            return .integer(try scanRadixInteger(radix: radix, start: start))
        }
        return try scanDecimalNumber(sign: sign, start: start)
    }

    private static func radix(forPrefix scalar: Unicode.Scalar?) -> Int? {
        switch scalar {
        case "x": 16
        case "o": 8
        case "b": 2
        default: nil
        }
    }

    private mutating func scanRadixInteger(radix: Int, start: TOMLSourcePosition) throws(TOMLParseError) -> Int {
        let digits = try scanDigitRun(radix: radix)
        try rejectTrailingNumberCharacters()
        guard let value = Self.integer(fromDigits: digits, radix: radix, isNegative: false) else {
            throw TOMLParseError(at: start, "integer does not fit in 64 bits")
        }
        return value
    }

    /// integer-part [ "." fraction ] [ ("e" | "E") [sign] exponent ]; a float if either optional part is present.
    private mutating func scanDecimalNumber(sign: Unicode.Scalar?, start: TOMLSourcePosition) throws(TOMLParseError) -> TOMLValue {
        let integerStart = position
        let integerDigits = try scanDigitRun(radix: 10)
        if integerDigits.count > 1 && integerDigits.first == 0 {
            throw TOMLParseError(at: integerStart, "leading zeros are not allowed in a decimal number")
        }
        var fractionDigits: [UInt8]?
        if current == "." {
            advance()
            guard Self.isDecimalDigit(current) else { throw error("expected a digit after the decimal point") }
            fractionDigits = try scanDigitRun(radix: 10)
        }
        var exponent: (sign: Unicode.Scalar?, digits: [UInt8])?
        if current == "e" || current == "E" {
            advance()
            var exponentSign: Unicode.Scalar?
            if current == "+" || current == "-" {
                exponentSign = current
                advance()
            }
            guard Self.isDecimalDigit(current) else { throw error("expected a digit in the exponent") }
            exponent = (exponentSign, try scanDigitRun(radix: 10))
        }
        try rejectTrailingNumberCharacters()

        if fractionDigits == nil && exponent == nil {
            guard let value = Self.integer(fromDigits: integerDigits, radix: 10, isNegative: sign == "-") else {
                throw TOMLParseError(at: start, "integer does not fit in 64 bits")
            }
            return .integer(value)
        }
        var literal = sign == "-" ? "-" : ""
        literal += Self.decimalText(integerDigits)
        if let fractionDigits { literal += "." + Self.decimalText(fractionDigits) }
        if let exponent { literal += "e" + (exponent.sign == "-" ? "-" : "") + Self.decimalText(exponent.digits) }
        guard let value = Double(literal) else {
            throw TOMLParseError(at: start, "invalid float \(literal)")
        }
        return .float(value)
    }

    /// One or more digits of `radix`, where each underscore must sit between two digits: "1_000" is [1, 0, 0, 0].
    private mutating func scanDigitRun(radix: Int) throws(TOMLParseError) -> [UInt8] {
        var digits: [UInt8] = []
        while true {
            guard let scalar = current, let digit = Self.digitValue(scalar, radix: radix) else {
                if digits.isEmpty { throw error("expected a digit, found \(Self.describe(current))") }
                throw error("an underscore in a number must be followed by a digit")
            }
            digits.append(digit)
            advance()
            while let scalar = current, let digit = Self.digitValue(scalar, radix: radix) {
                digits.append(digit)
                advance()
            }
            guard current == "_" else { return digits }
            advance()
        }
    }

    /// A number must end at a delimiter; "12ab", "1.2.3" or "0b102" are malformed, not two tokens.
    private func rejectTrailingNumberCharacters() throws(TOMLParseError) {
        if Self.isBareKeyCharacter(current) || current == "." || current == "+" {
            throw error("unexpected \(Self.describe(current)) in a number")
        }
    }

    private static func digitValue(_ scalar: Unicode.Scalar, radix: Int) -> UInt8? {
        guard let value = hexDigitValue(scalar), value < radix else { return nil }
        return UInt8(value)
    }

    /// nil when the value does not fit in `Int`; negatives are accumulated downwards so `Int.min` fits.
    private static func integer(fromDigits digits: [UInt8], radix: Int, isNegative: Bool) -> Int? {
        var value = 0
        for digit in digits {
            let shifted = value.multipliedReportingOverflow(by: radix)
            let next = isNegative
                ? shifted.partialValue.subtractingReportingOverflow(Int(digit))
                : shifted.partialValue.addingReportingOverflow(Int(digit))
            if shifted.overflow || next.overflow { return nil }
            value = next.partialValue
        }
        return value
    }

    private static func decimalText(_ digits: [UInt8]) -> String {
        var text = String.UnicodeScalarView()
        for digit in digits { text.append(Unicode.Scalar(UInt8(0x30) + digit)) }
        return String(text)
    }
}
