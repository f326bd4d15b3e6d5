/// A TOML table: string keys mapped to values, remembering the order keys appeared in the document.
///
/// Equality compares both the entries and their order.
public struct TOMLTable: Sendable, Equatable {
    /// Keys in document order; each appears once.
    public private(set) var keys: [String] = []
    private var valuesByKey: [String: TOMLValue] = [:]

    public init() {}

    /// Setting `nil` removes the key; setting a new key appends it to `keys`.
    public subscript(key: String) -> TOMLValue? {
        get { valuesByKey[key] }
        set {
            switch (valuesByKey[key] == nil, newValue == nil) {
            case (true, false): keys.append(key)
            case (false, true): keys.removeAll { $0 == key }
            default: break
            }
            valuesByKey[key] = newValue
        }
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    /// Follows nested tables: `value(atPath: ["server", "port"])` is `[server] port`.
    public func value(atPath path: [String]) -> TOMLValue? {
        guard let first = path.first, let value = self[first] else { return nil }
        if path.count == 1 { return value }
        return value.tableValue?.value(atPath: Array(path.dropFirst()))
    }
}

extension TOMLTable: Sequence {
    public typealias Element = (key: String, value: TOMLValue)

    /// Iterates entries in document order.
    public struct Iterator: IteratorProtocol {
        private let table: TOMLTable
        private var position = 0

        fileprivate init(_ table: TOMLTable) { self.table = table }

        public mutating func next() -> Element? {
            guard position < table.keys.count else { return nil }
            let key = table.keys[position]
            position += 1
            guard let value = table[key] else { return nil }
            return (key, value)
        }
    }

    public func makeIterator() -> Iterator { Iterator(self) }
    public var underestimatedCount: Int { count }
}

extension TOMLTable: ExpressibleByDictionaryLiteral {
    /// A repeated key keeps its first position and its last value.
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        for (key, value) in elements { self[key] = value }
    }
}
