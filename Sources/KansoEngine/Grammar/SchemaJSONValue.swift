import KansoJSON

// The engine's own JSON value, for schemas and for checking constrained output. Objects keep their
// members in document order (a schema's `properties` order is the order the grammar emits), and
// numbers keep their text so enum/const literals are emitted exactly as the schema wrote them.
// The text is read by KansoJSON's parser, the one KansoWire's messages use.

public enum SchemaJSONValue: Sendable, Hashable, CustomStringConvertible {
    case null
    case bool(Bool)
    /// The number's JSON text ("12", "-0.5e3").
    case number(String)
    case string(String)
    case array([SchemaJSONValue])
    /// Members in document order; keys are unique (the parser rejects duplicates).
    case object([(key: String, value: SchemaJSONValue)])

    public static func == (left: SchemaJSONValue, right: SchemaJSONValue) -> Bool {
        switch (left, right) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.number(a), .number(b)): return a == b
        case let (.string(a), .string(b)): return a == b
        case let (.array(a), .array(b)): return a == b
        case let (.object(a), .object(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .null: hasher.combine(0)
        case .bool(let value): hasher.combine(value)
        case .number(let text): hasher.combine(text)
        case .string(let text): hasher.combine(text)
        case .array(let items): hasher.combine(items)
        case .object(let members):
            for member in members {
                hasher.combine(member.key)
                hasher.combine(member.value)
            }
        }
    }

    /// The member named `key` of an object.
    public subscript(key: String) -> SchemaJSONValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.key == key }?.value
    }

    /// The value of a number (nil for other kinds).
    public var numberValue: Double? {
        guard case .number(let text) = self else { return nil }
        return Double(text)
    }

    /// JSON Schema's equality: numbers by value, objects regardless of member order.
    public func isSchemaEqual(to other: SchemaJSONValue) -> Bool {
        switch (self, other) {
        case let (.number(a), .number(b)): return Double(a) == Double(b)
        case let (.array(a), .array(b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.isSchemaEqual(to: $1) }
        case let (.object(a), .object(b)):
            guard a.count == b.count else { return false }
            return a.allSatisfy { member in
                b.contains { $0.key == member.key && $0.value.isSchemaEqual(to: member.value) }
            }
        default: return self == other
        }
    }

    /// Compact JSON text: no spaces, members in order, strings escaped as RFC 8259 requires.
    public var compactText: String {
        var bytes: [UInt8] = []
        appendCompact(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    public var description: String { compactText }

    func appendCompact(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes += Array("null".utf8)
        case .bool(let value): bytes += Array((value ? "true" : "false").utf8)
        case .number(let text): bytes += Array(text.utf8)
        case .string(let text): Self.appendQuoted(text, to: &bytes)
        case .array(let items):
            bytes.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                item.appendCompact(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                Self.appendQuoted(member.key, to: &bytes)
                bytes.append(UInt8(ascii: ":"))
                member.value.appendCompact(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// `text` as a JSON string literal: quote, backslash and control characters escaped.
    static func appendQuoted(_ text: String, to bytes: inout [UInt8]) {
        let hexDigits = Array("0123456789abcdef".utf8)
        bytes.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\"")]
            case UInt8(ascii: "\\"): bytes += [UInt8(ascii: "\\"), UInt8(ascii: "\\")]
            case 0x0A: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "n")]
            case 0x0D: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "r")]
            case 0x09: bytes += [UInt8(ascii: "\\"), UInt8(ascii: "t")]
            case 0x00..<0x20:
                bytes += Array("\\u00".utf8)
                bytes += [hexDigits[Int(byte >> 4)], hexDigits[Int(byte & 0x0F)]]
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Deepest nesting of arrays and objects accepted in schema text and in checked output.
    public static let maximumDepth = 256

    /// Parses JSON text (RFC 8259, one value, surrounding whitespace allowed).
    public init(parsing text: String) throws(JSONParseError) {
        self = try JSONParser<SchemaJSONBuilder>.parse(Array(text.utf8), maximumDepth: Self.maximumDepth)
    }

    /// Parses JSON bytes (RFC 8259, one value, surrounding whitespace allowed).
    public init(parsing bytes: [UInt8]) throws(JSONParseError) {
        self = try JSONParser<SchemaJSONBuilder>.parse(bytes, maximumDepth: Self.maximumDepth)
    }
}

/// Schemas' JSON: members in document order, a repeated member name refused, numbers as written.
enum SchemaJSONBuilder: JSONValueBuilder {
    /// An object's members so far, and their names for the duplicate check.
    struct Members {
        var list: [(key: String, value: SchemaJSONValue)] = []
        var names: Set<String> = []
    }

    static var null: SchemaJSONValue { .null }
    static func bool(_ value: Bool) -> SchemaJSONValue { .bool(value) }
    static func number(_ text: String, isInteger: Bool) -> SchemaJSONValue? { .number(text) }
    static func string(_ text: String) -> SchemaJSONValue { .string(text) }
    static func array(_ items: [SchemaJSONValue]) -> SchemaJSONValue { .array(items) }
    static func emptyMembers() -> Members { Members() }

    static func add(_ key: String, _ value: SchemaJSONValue, to members: inout Members) -> Bool {
        guard members.names.insert(key).inserted else { return false }
        members.list.append((key, value))
        return true
    }

    static func object(_ members: Members) -> SchemaJSONValue { .object(members.list) }
}
