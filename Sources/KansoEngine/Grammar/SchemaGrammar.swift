// A JSON Schema compiled once into a byte-level pushdown matcher (immutable, shared between
// requests and threads). Outputs it accepts are JSON texts that validate against the schema,
// written compactly with at most one space at each place JSON allows whitespace before a value,
// after '{' and ',' and before a closing bracket. Numbers have bounded digits and no exponent.
// A schema whose strings are copied from the text (`"x-kanso-from-text": true`) is bound to each
// request's text before decoding: `bound(toText:)` makes a grammar that shares the rules.

public final class SchemaGrammar: Sendable {
    /// The schema as given (for validation of finished outputs).
    public let schema: SchemaJSONValue
    let rules: [GrammarRule]
    let rootRule: Int32
    /// The request's text that copied strings come from (nil until bound).
    let sourceText: BoundText?

    /// The keyword that makes a string schema a copy of part of the request's text.
    public static let fromTextKeyword = "x-kanso-from-text"

    /// Whether some string must be copied from the text, so decoding needs `bound(toText:)`.
    public var needsSourceText: Bool {
        rules.contains { if case .span = $0 { return true } else { return false } }
    }

    /// Whether this grammar carries a request's text (masks of its states are not cached then:
    /// they depend on that text and will not come again).
    public var isBoundToText: Bool { sourceText != nil }

    /// The same grammar with copied strings taken from `text` (a request's input): O(text length).
    public func bound(toText text: String) -> SchemaGrammar {
        let bytes = Array(text.utf8)
        var words = false, addresses = false
        for case .span(let rule) in rules {
            if rule.isEmail { addresses = true } else { words = true }
        }
        let bound = BoundText(words: words ? TextSpanIndex(bytes: bytes, boundaries: .words) : nil,
                              addresses: addresses ? TextSpanIndex(bytes: bytes, boundaries: .addresses) : nil)
        return SchemaGrammar(schema: schema, options: options, rules: rules, rootRule: rootRule, sourceText: bound)
    }

    /// A request's text indexed for the copied strings of a grammar: plain ones cut at word
    /// boundaries, addresses at address boundaries (TextSpanIndex.Boundaries).
    struct BoundText: Sendable {
        let words: TextSpanIndex?
        let addresses: TextSpanIndex?
    }

    private init(schema: SchemaJSONValue, options: Options, rules: [GrammarRule], rootRule: Int32, sourceText: BoundText) {
        self.schema = schema
        self.options = options
        self.rules = rules
        self.rootRule = rootRule
        self.sourceText = sourceText
    }

    /// Limits the grammar adds where the schema sets none, so that every output has a bounded
    /// length (`maximumByteCount`) and decoding with enough tokens always completes. They narrow
    /// what is generated, never what validates.
    public struct Options: Sendable, Equatable {
        /// Characters of a string without maxLength (nil: unbounded). Never below its minLength.
        public var maximumStringLength: Int?
        /// Items of an array without maxItems (nil: unbounded). Never below its minItems.
        public var maximumArrayItems: Int?

        public init(maximumStringLength: Int? = nil, maximumArrayItems: Int? = nil) {
            self.maximumStringLength = maximumStringLength
            self.maximumArrayItems = maximumArrayItems
        }

        /// JSON Schema as written: no added limits.
        public static let unbounded = Options()
    }

    public let options: Options

    /// Compiles `schema`; throws GrammarError naming the JSON pointer of what is not supported.
    public init(schema: SchemaJSONValue, options: Options = .unbounded) throws {
        var compiler = SchemaCompiler(options: options)
        rootRule = try compiler.compile(schema, pointer: "", depth: 0)
        rules = compiler.rules
        self.schema = schema
        self.options = options
        sourceText = nil
    }

    /// Parses and compiles JSON Schema text.
    public convenience init(schemaText: String, options: Options = .unbounded) throws {
        let schema: SchemaJSONValue
        do {
            schema = try SchemaJSONValue(parsing: schemaText)
        } catch {
            throw GrammarError.invalidSchemaText(error)
        }
        try self.init(schema: schema, options: options)
    }

    /// Nothing generated yet.
    public var initialState: GrammarState {
        GrammarState(grammar: self, top: GrammarFrame(rule: rootRule, allowsLeadingSpace: true))
    }

    /// The longest output the grammar accepts, in bytes, or nil when unbounded (a string without
    /// maxLength, an array without maxItems).
    public var maximumByteCount: Int? { maximumByteCount(of: rootRule) }

    private func maximumByteCount(of rule: Int32) -> Int? {
        // Every value may be preceded by one space.
        switch rules[Int(rule)] {
        case .literals(let trie): return 1 + trie.maximumLength
        case .number(let number): return 1 + number.maximumByteCount
        case .string(let string):
            // A character is at most 6 bytes (\uXXXX) in the output.
            guard string.maximumLength != Int32.max else { return nil }
            return 3 + 6 * Int(string.maximumLength)
        case .span(let span):
            // Copied bytes are never escaped: at most 4 a character.
            guard span.maximumLength != Int32.max else { return nil }
            return 3 + 4 * Int(span.maximumLength)
        case .array(let array):
            guard array.maximumItems != Int32.max, let item = maximumByteCount(of: array.itemRule) else { return nil }
            return 4 + Int(array.maximumItems) * (item + 1)
        case .object(let object):
            // { space? then per member: space? "key" : value , ; space? }
            var total = 4
            for (index, property) in object.properties.enumerated() {
                guard let value = maximumByteCount(of: property.valueRule) else { return nil }
                total += 2 + keyLength(object, index) + 1 + value
            }
            return total
        case .choice(let choice):
            var longest = 0
            for alternative in Set(choice.ruleForFirstByte) where alternative >= 0 {
                guard let length = maximumByteCount(of: alternative) else { return nil }
                longest = max(longest, length)
            }
            return 1 + longest
        }
    }

    private func keyLength(_ object: ObjectRule, _ index: Int) -> Int {
        var bytes: [UInt8] = []
        SchemaJSONValue.appendQuoted(object.properties[index].name, to: &bytes)
        return bytes.count
    }

    /// Whether `text` is a complete output of this grammar (byte by byte through the matcher).
    public func accepts(_ text: some Sequence<UInt8>) -> Bool {
        initialState.advanced(by: text)?.isComplete ?? false
    }
}
