import KansoJSON

/// JSON text ⇄ `JSONValue` without Foundation's coders, for the hot path of every message:
/// KansoJSON's parser (strict RFC 8259, nesting bounded) building `JSONValue`s, and a compact
/// serializer.
public enum JSONText {
    /// Deepest nesting of arrays and objects accepted.
    public static let maximumDepth = 64

    /// Parses one JSON value that must fill `bytes` (surrounding white space allowed).
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes) throws(JSONParseError) -> JSONValue {
        try JSONParser<MessageJSONBuilder>.parse(bytes, maximumDepth: maximumDepth)
    }

    /// Compact JSON text of `value`.
    public static func serialize(_ value: JSONValue) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(256)
        write(value, to: &output)
        return output
    }

    static func write(_ value: JSONValue, to output: inout [UInt8]) {
        switch value {
        case .null: output.append(contentsOf: "null".utf8)
        case .bool(let flag): output.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let number): output.append(contentsOf: String(number).utf8)
        case .double(let number):
            if number.isFinite {
                output.append(contentsOf: (number == number.rounded() && abs(number) < 1e15 ? String(Int64(number)) + ".0" : "\(number)").utf8)
            } else {
                output.append(contentsOf: "null".utf8)  // JSON has no NaN or infinity
            }
        case .string(let text): writeString(text, to: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                write(item, to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                writeString(key, to: &output)
                output.append(UInt8(ascii: ":"))
                write(members[key]!, to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    static func writeString(_ text: String, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var text = text
        text.withUTF8 { bytes in
            // Most strings need no escape: copy runs of plain bytes in one go.
            var runStart = 0
            for (index, byte) in bytes.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
                appendEscape(byte, to: &output)
                runStart = index + 1
            }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        }
        output.append(UInt8(ascii: "\""))
    }

    /// The escape of one byte that JSON text may not hold as it is: a quote, a backslash or a
    /// control character.
    private static func appendEscape(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\\"))
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): output.append(byte)
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            output.append(contentsOf: [UInt8(ascii: "u"), 48, 48])
            output.append(hex.utf8Start[Int(byte >> 4)])
            output.append(hex.utf8Start[Int(byte & 15)])
        }
    }
}

/// Messages' JSON: integers apart from floats (Varlink's `int`), members by name (a repeated name
/// keeps its last value, as most JSON readers do).
enum MessageJSONBuilder: JSONValueBuilder {
    static var null: JSONValue { .null }
    static func bool(_ value: Bool) -> JSONValue { .bool(value) }

    static func number(_ text: String, isInteger: Bool) -> JSONValue? {
        if isInteger, let integer = Int(text) { return .int(integer) }
        guard let double = Double(text), double.isFinite else { return nil }
        return .double(double)
    }

    static func string(_ text: String) -> JSONValue { .string(text) }
    static func array(_ items: [JSONValue]) -> JSONValue { .array(items) }
    static func emptyMembers() -> [String: JSONValue] { [:] }

    static func add(_ key: String, _ value: JSONValue, to members: inout [String: JSONValue]) -> Bool {
        members[key] = value
        return true
    }

    static func object(_ members: [String: JSONValue]) -> JSONValue { .object(members) }
}
