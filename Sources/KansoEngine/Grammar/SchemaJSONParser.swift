// A strict JSON parser (RFC 8259) into SchemaJSONValue: object members stay in document order,
// duplicate keys are an error, nesting is bounded, strings must be valid UTF-8, \u escapes must
// pair their surrogates. Used for schema text and for checking what constrained decoding produced.

public struct SchemaJSONParseError: Error, Equatable, CustomStringConvertible {
    /// Byte offset in the input where the problem was found.
    public let offset: Int
    public let reason: String
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

enum SchemaJSONParser {
    static let maximumDepth = 256

    static func parse(_ bytes: [UInt8]) throws -> SchemaJSONValue {
        var parser = Cursor(bytes: bytes)
        parser.skipWhitespace()
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else { throw parser.error("text after the value") }
        return value
    }

    private struct Cursor {
        let bytes: [UInt8]
        var offset = 0

        func error(_ reason: String) -> SchemaJSONParseError { SchemaJSONParseError(offset: offset, reason: reason) }

        var current: UInt8? { offset < bytes.count ? bytes[offset] : nil }

        mutating func skipWhitespace() {
            while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { offset += 1 }
        }

        mutating func expect(_ literal: String) throws {
            for byte in literal.utf8 {
                guard current == byte else { throw error("expected \"\(literal)\"") }
                offset += 1
            }
        }

        mutating func parseValue(depth: Int) throws -> SchemaJSONValue {
            guard depth < SchemaJSONParser.maximumDepth else { throw error("nesting deeper than \(SchemaJSONParser.maximumDepth)") }
            guard let byte = current else { throw error("unexpected end of text") }
            switch byte {
            case UInt8(ascii: "{"): return try parseObject(depth: depth)
            case UInt8(ascii: "["): return try parseArray(depth: depth)
            case UInt8(ascii: "\""): return .string(try parseString())
            case UInt8(ascii: "t"): try expect("true"); return .bool(true)
            case UInt8(ascii: "f"): try expect("false"); return .bool(false)
            case UInt8(ascii: "n"): try expect("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
            default: throw error("unexpected byte 0x\(String(byte, radix: 16))")
            }
        }

        mutating func parseObject(depth: Int) throws -> SchemaJSONValue {
            offset += 1
            var members: [(key: String, value: SchemaJSONValue)] = []
            var keys = Set<String>()
            skipWhitespace()
            if current == UInt8(ascii: "}") { offset += 1; return .object(members) }
            while true {
                skipWhitespace()
                guard current == UInt8(ascii: "\"") else { throw error("expected a member name") }
                let keyOffset = offset
                let key = try parseString()
                guard keys.insert(key).inserted else {
                    throw SchemaJSONParseError(offset: keyOffset, reason: "duplicate member \"\(key)\"")
                }
                skipWhitespace()
                guard current == UInt8(ascii: ":") else { throw error("expected ':'") }
                offset += 1
                skipWhitespace()
                members.append((key, try parseValue(depth: depth + 1)))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "}"): offset += 1; return .object(members)
                default: throw error("expected ',' or '}'")
                }
            }
        }

        mutating func parseArray(depth: Int) throws -> SchemaJSONValue {
            offset += 1
            var items: [SchemaJSONValue] = []
            skipWhitespace()
            if current == UInt8(ascii: "]") { offset += 1; return .array(items) }
            while true {
                skipWhitespace()
                items.append(try parseValue(depth: depth + 1))
                skipWhitespace()
                switch current {
                case UInt8(ascii: ","): offset += 1
                case UInt8(ascii: "]"): offset += 1; return .array(items)
                default: throw error("expected ',' or ']'")
                }
            }
        }

        mutating func parseNumber() throws -> String {
            let start = offset
            func digits() -> Int {
                let first = offset
                while let byte = current, byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") { offset += 1 }
                return offset - first
            }
            if current == UInt8(ascii: "-") { offset += 1 }
            if current == UInt8(ascii: "0") {
                offset += 1
            } else {
                guard digits() > 0 else { throw error("expected a digit") }
            }
            if current == UInt8(ascii: ".") {
                offset += 1
                guard digits() > 0 else { throw error("expected a digit after '.'") }
            }
            if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
                offset += 1
                if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { offset += 1 }
                guard digits() > 0 else { throw error("expected a digit in the exponent") }
            }
            return String(decoding: bytes[start..<offset], as: UTF8.self)
        }

        mutating func parseHex4() throws -> UInt32 {
            var value: UInt32 = 0
            for _ in 0..<4 {
                guard let byte = current, let digit = hexValue(byte) else { throw error("expected 4 hex digits") }
                value = value << 4 | digit
                offset += 1
            }
            return value
        }

        mutating func parseString() throws -> String {
            offset += 1
            var scalars = String.UnicodeScalarView()
            var validator = UTF8Validator()
            var pending: [UInt8] = []
            while true {
                guard let byte = current else { throw error("unterminated string") }
                if validator.isBetweenCharacters {
                    if byte == UInt8(ascii: "\"") { offset += 1; break }
                    if byte == UInt8(ascii: "\\") {
                        offset += 1
                        scalars.append(try parseEscape())
                        continue
                    }
                    if byte < 0x20 { throw error("control character in a string") }
                }
                guard validator.accept(byte) else { throw error("invalid UTF-8 in a string") }
                pending.append(byte)
                offset += 1
                if validator.isBetweenCharacters {
                    scalars.append(contentsOf: String(decoding: pending, as: UTF8.self).unicodeScalars)
                    pending.removeAll(keepingCapacity: true)
                }
            }
            return String(scalars)
        }

        mutating func parseEscape() throws -> Unicode.Scalar {
            guard let byte = current else { throw error("unterminated escape") }
            offset += 1
            switch byte {
            case UInt8(ascii: "\""): return "\""
            case UInt8(ascii: "\\"): return "\\"
            case UInt8(ascii: "/"): return "/"
            case UInt8(ascii: "b"): return "\u{08}"
            case UInt8(ascii: "f"): return "\u{0C}"
            case UInt8(ascii: "n"): return "\n"
            case UInt8(ascii: "r"): return "\r"
            case UInt8(ascii: "t"): return "\t"
            case UInt8(ascii: "u"):
                let unit = try parseHex4()
                if (0xD800..<0xDC00).contains(unit) {
                    guard current == UInt8(ascii: "\\") else { throw error("lone high surrogate") }
                    offset += 1
                    guard current == UInt8(ascii: "u") else { throw error("lone high surrogate") }
                    offset += 1
                    let low = try parseHex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("high surrogate without a low one") }
                    return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
                }
                guard let scalar = Unicode.Scalar(unit) else { throw error("lone low surrogate") }
                return scalar
            default: throw error("unknown escape \\\(Character(Unicode.Scalar(byte)))")
            }
        }
    }
}

func hexValue(_ byte: UInt8) -> UInt32? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - UInt8(ascii: "0"))
    case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - UInt8(ascii: "a") + 10)
    case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - UInt8(ascii: "A") + 10)
    default: return nil
    }
}
