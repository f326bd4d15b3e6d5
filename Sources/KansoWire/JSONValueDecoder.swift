/// `JSONValue` → Decodable, directly: method parameters already parsed by `JSONText` become the
/// typed structs the handlers read (Foundation's JSONDecoder needed them as text again).
/// Numbers convert where no information is lost (an int field accepts 3 and 3.0, not 3.5; a
/// float field accepts ints); everything else must be the JSON type the field has.
/// Failures are `JSONValueDecodingError`s naming the field's path and what was expected.
public struct JSONValueDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws -> T {
        try NodeDecoder(value: value, codingPath: []).decodeValue(T.self)
    }
}

/// A field that is missing or has the wrong type, with its path ("agents.2.name").
public struct JSONValueDecodingError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let message: String

    init(_ path: [CodingKey], _ message: String) {
        self.path = path.map(\.stringValue).joined(separator: ".")
        self.message = message
    }

    public var description: String {
        path.isEmpty ? message : "\"\(path)\": \(message)"
    }
}

struct NodeDecoder: Decoder {
    let value: JSONValue
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else {
            throw JSONValueDecodingError(codingPath, "expected an object, got \(value.typeName)")
        }
        return KeyedDecodingContainer(KeyedValueContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> UnkeyedDecodingContainer {
        guard case .array(let items) = value else {
            throw JSONValueDecodingError(codingPath, "expected an array, got \(value.typeName)")
        }
        return UnkeyedValueContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> SingleValueDecodingContainer {
        SingleValueContainer(decoder: self)
    }

    /// `T` from this value: JSONValue itself and the primitives directly, the rest through
    /// `init(from:)`.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if T.self == JSONValue.self { return value as! T }
        if let primitive = try primitive(T.self) { return primitive }
        return try T(from: self)
    }

    private func primitive<T>(_ type: T.Type) throws -> T? {
        switch type {
        case is String.Type:
            guard case .string(let text) = value else { throw mismatch("a string") }
            return text as? T
        case is Bool.Type:
            guard case .bool(let flag) = value else { throw mismatch("true or false") }
            return flag as? T
        case is Double.Type: return try floatingPoint() as? T
        case is Float.Type: return try Float(floatingPoint()) as? T
        case is Int.Type: return try integer(Int.self) as? T
        case is Int8.Type: return try integer(Int8.self) as? T
        case is Int16.Type: return try integer(Int16.self) as? T
        case is Int32.Type: return try integer(Int32.self) as? T
        case is Int64.Type: return try integer(Int64.self) as? T
        case is UInt.Type: return try integer(UInt.self) as? T
        case is UInt8.Type: return try integer(UInt8.self) as? T
        case is UInt16.Type: return try integer(UInt16.self) as? T
        case is UInt32.Type: return try integer(UInt32.self) as? T
        case is UInt64.Type: return try integer(UInt64.self) as? T
        default: return nil
        }
    }

    private func floatingPoint() throws -> Double {
        switch value {
        case .int(let number): return Double(number)
        case .double(let number): return number
        default: throw mismatch("a number")
        }
    }

    private func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        let converted: I?
        switch value {
        case .int(let number): converted = I(exactly: number)
        case .double(let number): converted = I(exactly: number)
        default: throw mismatch("an integer")
        }
        guard let converted else {
            throw JSONValueDecodingError(codingPath, "expected an integer in \(I.min)...\(I.max), got \(value.compactJSON)")
        }
        return converted
    }

    private func mismatch(_ expected: String) -> JSONValueDecodingError {
        JSONValueDecodingError(codingPath, "expected \(expected), got \(value.typeName)")
    }
}

struct KeyedValueContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [String: JSONValue]
    let codingPath: [CodingKey]

    var allKeys: [Key] { members.keys.compactMap { Key(stringValue: $0) } }

    func contains(_ key: Key) -> Bool { members[key.stringValue] != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        members[key.stringValue].map { $0 == .null } ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder(for: key).decodeValue(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> Decoder {
        NodeDecoder(value: members["super"] ?? .null, codingPath: codingPath + [PathKey("super")])
    }

    func superDecoder(forKey key: Key) throws -> Decoder {
        NodeDecoder(value: members[key.stringValue] ?? .null, codingPath: codingPath + [key])
    }

    private func decoder(for key: Key) throws -> NodeDecoder {
        guard let value = members[key.stringValue] else {
            throw JSONValueDecodingError(codingPath + [key], "missing")
        }
        return NodeDecoder(value: value, codingPath: codingPath + [key])
    }
}

struct UnkeyedValueContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let codingPath: [CodingKey]
    private(set) var currentIndex = 0

    init(items: [JSONValue], codingPath: [CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try next().decodeValue(T.self)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let container = try next().container(keyedBy: type)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> UnkeyedDecodingContainer {
        let container = try next().unkeyedContainer()
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> Decoder {
        let decoder = try next()
        currentIndex += 1
        return decoder
    }

    private func next() throws -> NodeDecoder {
        let path = codingPath + [PathKey(index: currentIndex)]
        guard !isAtEnd else { throw JSONValueDecodingError(path, "missing: the array has only \(items.count) items") }
        return NodeDecoder(value: items[currentIndex], codingPath: path)
    }
}

struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: NodeDecoder
    var codingPath: [CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decodeValue(T.self)
    }
}
