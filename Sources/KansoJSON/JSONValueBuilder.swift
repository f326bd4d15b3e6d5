/// What `JSONParser` builds from the text it reads: each reader's own value type. Messages want
/// integers apart from floats and members by name (KansoWire's JSONValue); schemas want members in
/// document order, no duplicates, and numbers as written (the engine's SchemaJSONValue).
public protocol JSONValueBuilder {
    associatedtype Value
    /// An object's members while it is read.
    associatedtype Members

    static var null: Value { get }
    static func bool(_ value: Bool) -> Value
    /// A number's text, already checked against JSON's grammar; `isInteger` when it has neither
    /// fraction nor exponent. nil when the value type cannot hold it ("out of range").
    static func number(_ text: String, isInteger: Bool) -> Value?
    static func string(_ text: String) -> Value
    static func array(_ items: [Value]) -> Value
    static func emptyMembers() -> Members
    /// Adds a member; false refuses it because `key` came before (a duplicate member).
    static func add(_ key: String, _ value: Value, to members: inout Members) -> Bool
    static func object(_ members: Members) -> Value
}
