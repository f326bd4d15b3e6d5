/// The project's one JSON text parser: strict RFC 8259 (no trailing commas, no comments, escapes
/// and surrogate pairs checked, strings valid UTF-8, nesting bounded so that hostile input cannot
/// exhaust the stack), building whatever `Builder` makes. Inlinable so that each reader's
/// builder is specialized into its module: Varlink messages are parsed on every call.
public enum JSONParser<Builder: JSONValueBuilder> {
    /// Parses one JSON value that must fill `bytes` (surrounding white space allowed), nesting
    /// at most `maximumDepth` arrays and objects.
    @inlinable
    public static func parse<Bytes: Collection<UInt8>>(_ bytes: Bytes, maximumDepth: Int) throws(JSONParseError) -> Builder.Value {
        try Array(bytes).withUnsafeBufferPointer { buffer throws(JSONParseError) -> Builder.Value in
            var cursor = JSONCursor<Builder>(bytes: buffer, maximumDepth: maximumDepth)
            cursor.skipWhitespace()
            let value = try cursor.value(depth: 0)
            cursor.skipWhitespace()
            guard cursor.index == buffer.count else { throw cursor.error("unexpected text after the value") }
            return value
        }
    }
}

/// The reading position in one text.
@usableFromInline
struct JSONCursor<Builder: JSONValueBuilder> {
    @usableFromInline let bytes: UnsafeBufferPointer<UInt8>
    @usableFromInline let maximumDepth: Int
    @usableFromInline var index = 0

    @inlinable
    init(bytes: UnsafeBufferPointer<UInt8>, maximumDepth: Int) {
        self.bytes = bytes
        self.maximumDepth = maximumDepth
    }

    @inlinable
    func error(_ message: String) -> JSONParseError { JSONParseError(offset: index, message: message) }

    @inlinable
    mutating func skipWhitespace() {
        while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
            index += 1
        }
    }

    @inlinable
    mutating func value(depth: Int) throws(JSONParseError) -> Builder.Value {
        guard index < bytes.count else { throw error("unexpected end of text, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try object(depth: depth + 1)
        case UInt8(ascii: "["): return try array(depth: depth + 1)
        case UInt8(ascii: "\""): return Builder.string(try string())
        case UInt8(ascii: "t"): try literal("true"); return Builder.bool(true)
        case UInt8(ascii: "f"): try literal("false"); return Builder.bool(false)
        case UInt8(ascii: "n"): try literal("null"); return Builder.null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[index])))', expected a value")
        }
    }

    @inlinable
    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
              (0..<count).allSatisfy({ bytes[index + $0] == word.utf8Start[$0] }) else {
            throw error("invalid literal, expected \(word)")
        }
        index += count
    }

    @inlinable
    mutating func object(depth: Int) throws(JSONParseError) -> Builder.Value {
        guard depth <= maximumDepth else { throw error("nested deeper than \(maximumDepth) levels") }
        index += 1
        var members = Builder.emptyMembers()
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") { index += 1; return Builder.object(members) }
        while true {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a member name in quotes") }
            let keyOffset = index
            let key = try string()
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after a member name") }
            index += 1
            skipWhitespace()
            guard Builder.add(key, try value(depth: depth), to: &members) else {
                throw JSONParseError(offset: keyOffset, message: "duplicate member \"\(key)\"")
            }
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of text inside an object") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "}") { index += 1; return Builder.object(members) }
            throw error("expected ',' or '}' in an object")
        }
    }

    @inlinable
    mutating func array(depth: Int) throws(JSONParseError) -> Builder.Value {
        guard depth <= maximumDepth else { throw error("nested deeper than \(maximumDepth) levels") }
        index += 1
        var items: [Builder.Value] = []
        skipWhitespace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") { index += 1; return Builder.array(items) }
        while true {
            skipWhitespace()
            items.append(try value(depth: depth))
            skipWhitespace()
            guard index < bytes.count else { throw error("unexpected end of text inside an array") }
            if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
            if bytes[index] == UInt8(ascii: "]") { index += 1; return Builder.array(items) }
            throw error("expected ',' or ']' in an array")
        }
    }

    @inlinable
    mutating func number() throws(JSONParseError) -> Builder.Value {
        let start = index
        var isInteger = true
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        guard index < bytes.count, (48...57).contains(bytes[index]) else { throw error("expected a digit") }
        if bytes[index] == 48 {
            index += 1
            if index < bytes.count, (48...57).contains(bytes[index]) { throw error("numbers must not have leading zeros") }
        } else {
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < bytes.count, (48...57).contains(bytes[index]) else { throw error("expected a digit after '.'") }
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, (48...57).contains(bytes[index]) else { throw error("expected a digit in the exponent") }
            while index < bytes.count, (48...57).contains(bytes[index]) { index += 1 }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let value = Builder.number(text, isInteger: isInteger) else {
            throw JSONParseError(offset: start, message: "number \(text) is out of range")
        }
        return value
    }

    @inlinable
    mutating func string() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Most strings hold no escape: one validation of the run.
        while index < bytes.count, bytes[index] != UInt8(ascii: "\""), bytes[index] != UInt8(ascii: "\\"), bytes[index] >= 0x20 {
            index += 1
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "\"") {
            let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
            index += 1
            guard let text = String(validating: slice, as: UTF8.self) else {
                throw JSONParseError(offset: start, message: "string is not valid UTF-8")
            }
            return text
        }
        var utf8: [UInt8] = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while true {
            guard index < bytes.count else { throw error("unexpected end of text inside a string") }
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") { index += 1; break }
            if byte < 0x20 { throw error("control character in a string must be escaped") }
            if byte != UInt8(ascii: "\\") { utf8.append(byte); index += 1; continue }
            index += 1
            guard index < bytes.count else { throw error("unexpected end of text in an escape") }
            let escape = bytes[index]
            index += 1
            switch escape {
            case UInt8(ascii: "\""): utf8.append(34)
            case UInt8(ascii: "\\"): utf8.append(92)
            case UInt8(ascii: "/"): utf8.append(47)
            case UInt8(ascii: "b"): utf8.append(8)
            case UInt8(ascii: "f"): utf8.append(12)
            case UInt8(ascii: "n"): utf8.append(10)
            case UInt8(ascii: "r"): utf8.append(13)
            case UInt8(ascii: "t"): utf8.append(9)
            case UInt8(ascii: "u"):
                var code = try hex4()
                if (0xD800..<0xDC00).contains(code) {
                    guard index + 1 < bytes.count, bytes[index] == 92, bytes[index + 1] == UInt8(ascii: "u") else {
                        throw error("unpaired high surrogate")
                    }
                    index += 2
                    let low = try hex4()
                    guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00..<0xE000).contains(code) {
                    throw error("unpaired low surrogate")
                }
                utf8.append(contentsOf: String(Character(Unicode.Scalar(code)!)).utf8)
            default: throw error("invalid escape '\\\(Character(Unicode.Scalar(escape)))'")
            }
        }
        // Escapes only add whole characters, so invalid UTF-8 here came from the text itself.
        guard let text = String(validating: utf8, as: UTF8.self) else {
            throw JSONParseError(offset: start, message: "string is not valid UTF-8")
        }
        return text
    }

    @inlinable
    mutating func hex4() throws(JSONParseError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw error("unexpected end of text in a \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let byte = bytes[index]
            let digit: UInt32
            switch byte {
            case 48...57: digit = UInt32(byte - 48)
            case 65...70: digit = UInt32(byte - 55)
            case 97...102: digit = UInt32(byte - 87)
            default: throw error("invalid hex digit in a \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}
