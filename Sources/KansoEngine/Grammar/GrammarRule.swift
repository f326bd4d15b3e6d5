// The compiled form of a schema: one rule per subschema, referring to each other by index into
// SchemaGrammar.rules. Each rule has a non-empty language (the compiler checks), which is what
// lets every state the matcher reaches be completed.

enum GrammarRule: Sendable {
    case object(ObjectRule)
    case array(ArrayRule)
    case string(StringRule)
    /// A fixed set of JSON texts: enum, const, true/false, null.
    case literals(LiteralTrie)
    case number(NumberRule)
    /// Alternatives told apart by their first byte (anyOf, `type` lists).
    case choice(ChoiceRule)
    /// A string copied from the request's text (`"x-kanso-from-text": true`, GrammarSpanStepping.swift).
    case span(SpanRule)
}

/// `{ "key": value, ... }` with members in schema order; optional ones may be left out; no others.
struct ObjectRule: Sendable {
    struct Property: Sendable {
        let name: String
        let valueRule: Int32
        let isRequired: Bool
    }
    let properties: [Property]
    /// The quoted member names, `"name"`, string i being property i.
    let keys: LiteralTrie
    /// For each next-property index i (0...count): the last property that may come next (the first
    /// required one at or after i, else the last property).
    let lastCandidate: [Int32]
    /// For each i (0...count): whether no required property remains at or after i, so '}' may come.
    let canClose: [Bool]

    init(properties: [Property]) {
        self.properties = properties
        keys = LiteralTrie(properties.map { property in
            var bytes: [UInt8] = []
            SchemaJSONValue.appendQuoted(property.name, to: &bytes)
            return bytes
        })
        var last: [Int32] = Array(repeating: Int32(properties.count - 1), count: properties.count + 1)
        var close: [Bool] = Array(repeating: true, count: properties.count + 1)
        var nextRequired: Int32 = -1
        for index in stride(from: properties.count - 1, through: 0, by: -1) {
            if properties[index].isRequired { nextRequired = Int32(index) }
            if nextRequired >= 0 {
                last[index] = nextRequired
                close[index] = false
            }
        }
        lastCandidate = last
        canClose = close
    }
}

/// `[item, ...]` with minItems ≤ count ≤ maxItems.
struct ArrayRule: Sendable {
    let itemRule: Int32
    let minimumItems: Int32
    /// Int32.max when unbounded.
    let maximumItems: Int32
}

/// A free string: minLength ≤ characters ≤ maxLength, counted in Unicode code points; an escape
/// counts as the one character it stands for.
struct StringRule: Sendable {
    let minimumLength: Int32
    /// Int32.max when unbounded.
    let maximumLength: Int32
}

/// A string whose content is a substring of the text the grammar is bound to, minLength ≤
/// characters ≤ maxLength, with no leading or trailing space and no byte that JSON would escape;
/// with `isEmail` (`"format": "email"`) also an address: letters, digits, `._%+-` and one `@`
/// inside, so a copied e-mail field holds an address or nothing.
struct SpanRule: Sendable {
    let minimumLength: Int32
    /// Int32.max when unbounded.
    let maximumLength: Int32
    let isEmail: Bool
}

struct ChoiceRule: Sendable {
    /// For each first byte, the alternative's rule, or -1. [256]
    let ruleForFirstByte: [Int32]
}
