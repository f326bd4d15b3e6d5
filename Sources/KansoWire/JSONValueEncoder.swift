/// Encodable → `JSONValue`, directly, without JSON text in between: the replies' typed structs
/// become the value that `JSONText` serializes. It replaces Foundation's JSONEncoder, which
/// wrote text that was then parsed again, and whose library the daemon no longer links.
/// As JSONEncoder does: optionals that are nil are left out (synthesized `encodeIfPresent`), a
/// later value for the same key replaces the earlier one, a type that encodes nothing is `{}`.
public struct JSONValueEncoder {
    public init() {}

    public func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        try Self.value(of: value, at: [])
    }

    /// Compact JSON text of `value`, written from the encoded tree directly: what every reply
    /// frame is (members in encoding order, not sorted as `JSONText.serialize` sorts them).
    public func encodeText<T: Encodable>(_ value: T, into output: inout [UInt8]) throws {
        try Self.node(of: value, at: []).write(to: &output)
    }

    /// The JSON value of one Encodable at `path`.
    static func value<T: Encodable>(of value: T, at path: [CodingKey]) throws -> JSONValue {
        try node(of: value, at: path).value
    }

    /// The encoded tree of one Encodable at `path`: primitives and JSONValues as leaves,
    /// anything else through its `encode(to:)`.
    static func node<T: Encodable>(of value: T, at path: [CodingKey]) throws -> EncodingNode {
        if T.self == JSONValue.self { return .leaf(value as! JSONValue) }
        if let primitive = try primitiveValue(value, at: path) { return .leaf(primitive) }
        let node = EncodingNode()
        try value.encode(to: NodeEncoder(node: node, codingPath: path))
        return node
    }

    /// Strings, booleans and numbers: the types every container has an overload for. The type is
    /// compared first (a metadata pointer compare) so that structs, arrays and optionals, the
    /// common case on this generic path, do not pay for a dozen failing dynamic casts.
    static func primitiveValue<T>(_ value: T, at path: [CodingKey]) throws -> JSONValue? {
        if T.self == String.self { return .string(value as! String) }
        if T.self == Int.self { return .int(value as! Int) }
        if T.self == Bool.self { return .bool(value as! Bool) }
        if T.self == Double.self { return .double(value as! Double) }
        guard T.self is any FixedWidthInteger.Type || T.self == Float.self else { return nil }
        switch value {
        case let number as Float: return .double(Double(number))
        case let number as Int8: return .int(Int(number))
        case let number as Int16: return .int(Int(number))
        case let number as Int32: return .int(Int(number))
        case let number as Int64: return .int(Int(number))
        case let number as UInt8: return .int(Int(number))
        case let number as UInt16: return .int(Int(number))
        case let number as UInt32: return .int(Int(number))
        case let number as UInt: return try integer(number, at: path)
        case let number as UInt64: return try integer(number, at: path)
        default: return nil
        }
    }

    private static func integer<U: UnsignedInteger>(_ number: U, at path: [CodingKey]) throws -> JSONValue {
        guard let value = Int(exactly: number) else {
            throw EncodingError.invalidValue(number, .init(codingPath: path, debugDescription: "\(number) does not fit in a Varlink int (64-bit signed)"))
        }
        return .int(value)
    }
}

/// What one encoder or container writes into: a value, or an object or array filled in later
/// by nested containers (so they are references). An object keeps its members in the order they
/// were encoded (a struct's declaration order), which is also the order `write(to:)` gives them.
final class EncodingNode {
    enum Content {
        case empty
        case value(JSONValue)
        case object([(key: String, node: EncodingNode)])
        case array([EncodingNode])
    }

    var content = Content.empty

    var value: JSONValue {
        switch content {
        case .empty: return .object([:])
        case .value(let value): return value
        case .object(let members):
            // A key encoded twice keeps its last value, as JSONEncoder does.
            return .object(Dictionary(members.map { ($0.key, $0.node.value) }, uniquingKeysWith: { _, last in last }))
        case .array(let items): return .array(items.map(\.value))
        }
    }

    /// Compact JSON text of this node, straight from the tree (no JSONValue in between).
    func write(to output: inout [UInt8]) {
        switch content {
        case .empty: output.append(contentsOf: "{}".utf8)
        case .value(let value): JSONText.write(value, to: &output)
        case .array(let items):
            output.append(UInt8(ascii: "["))
            for (index, item) in items.enumerated() {
                if index > 0 { output.append(UInt8(ascii: ",")) }
                item.write(to: &output)
            }
            output.append(UInt8(ascii: "]"))
        case .object(let members):
            output.append(UInt8(ascii: "{"))
            var first = true
            for (index, member) in members.enumerated() where !Self.isReplaced(index, in: members) {
                if !first { output.append(UInt8(ascii: ",")) }
                first = false
                JSONText.writeString(member.key, to: &output)
                output.append(UInt8(ascii: ":"))
                member.node.write(to: &output)
            }
            output.append(UInt8(ascii: "}"))
        }
    }

    /// Whether a later member has the same key (then that one is written). Synthesized Codable
    /// never repeats a key, so this is a short scan that finds nothing.
    private static func isReplaced(_ index: Int, in members: [(key: String, node: EncodingNode)]) -> Bool {
        let key = members[index].key
        return members[(index + 1)...].contains { $0.key == key }
    }

    /// Makes this node an object (keeping members a nested container already wrote).
    func becomeObject() {
        if case .object = content { return }
        content = .object([])
    }

    func becomeArray() {
        if case .array = content { return }
        content = .array([])
    }

    func set(_ key: String, _ child: EncodingNode) {
        guard case .object(var members) = content else { return }
        content = .empty  // members uniquely referenced while changed
        members.append((key, child))
        content = .object(members)
    }

    func append(_ child: EncodingNode) {
        guard case .array(var items) = content else { return }
        content = .empty
        items.append(child)
        content = .array(items)
    }

    var arrayCount: Int {
        if case .array(let items) = content { return items.count }
        return 0
    }

    static func leaf(_ value: JSONValue) -> EncodingNode {
        let node = EncodingNode()
        node.content = .value(value)
        return node
    }
}

struct NodeEncoder: Encoder {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(KeyedNodeContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> UnkeyedEncodingContainer {
        node.becomeArray()
        return UnkeyedNodeContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> SingleValueEncodingContainer {
        SingleValueNodeContainer(node: node, codingPath: codingPath)
    }
}

struct KeyedNodeContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: EncodingNode
    let codingPath: [CodingKey]

    mutating func encodeNil(forKey key: Key) throws { node.set(key.stringValue, .leaf(.null)) }
    mutating func encode(_ value: Bool, forKey key: Key) throws { node.set(key.stringValue, .leaf(.bool(value))) }
    mutating func encode(_ value: String, forKey key: Key) throws { node.set(key.stringValue, .leaf(.string(value))) }
    mutating func encode(_ value: Double, forKey key: Key) throws { node.set(key.stringValue, .leaf(.double(value))) }
    mutating func encode(_ value: Float, forKey key: Key) throws { node.set(key.stringValue, .leaf(.double(Double(value)))) }
    mutating func encode(_ value: Int, forKey key: Key) throws { node.set(key.stringValue, .leaf(.int(value))) }

    /// Everything else, the other integer types among them (this generic method is their witness).
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        node.set(key.stringValue, try JSONValueEncoder.node(of: value, at: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        child.becomeObject()
        node.set(key.stringValue, child)
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> UnkeyedEncodingContainer {
        let child = EncodingNode()
        child.becomeArray()
        node.set(key.stringValue, child)
        return UnkeyedNodeContainer(node: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> Encoder { superEncoder(key: "super") }

    mutating func superEncoder(forKey key: Key) -> Encoder { superEncoder(key: key.stringValue) }

    private func superEncoder(key: String) -> Encoder {
        let child = EncodingNode()
        node.set(key, child)
        return NodeEncoder(node: child, codingPath: codingPath + [PathKey(key)])
    }
}

struct UnkeyedNodeContainer: UnkeyedEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]
    var count: Int { node.arrayCount }

    private var nextPath: [CodingKey] { codingPath + [PathKey(index: count)] }

    mutating func encodeNil() throws { node.append(.leaf(.null)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        node.append(try JSONValueEncoder.node(of: value, at: nextPath))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = EncodingNode()
        child.becomeObject()
        let path = nextPath
        node.append(child)
        return KeyedEncodingContainer(KeyedNodeContainer<NestedKey>(node: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> UnkeyedEncodingContainer {
        let child = EncodingNode()
        child.becomeArray()
        let path = nextPath
        node.append(child)
        return UnkeyedNodeContainer(node: child, codingPath: path)
    }

    mutating func superEncoder() -> Encoder {
        let child = EncodingNode()
        let path = nextPath
        node.append(child)
        return NodeEncoder(node: child, codingPath: path)
    }
}

struct SingleValueNodeContainer: SingleValueEncodingContainer {
    let node: EncodingNode
    let codingPath: [CodingKey]

    mutating func encodeNil() throws { node.content = .value(.null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        node.content = try JSONValueEncoder.node(of: value, at: codingPath).content
    }
}

/// A coding path element for array indices and `super`, in the encoder's and decoder's paths.
struct PathKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(_ string: String) {
        stringValue = string
        intValue = nil
    }

    init(index: Int) {
        stringValue = String(index)
        intValue = index
    }

    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { self.init(index: intValue) }
}
