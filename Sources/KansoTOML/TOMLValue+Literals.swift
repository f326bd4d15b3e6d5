// Literal conformances so expected values read like the TOML they come from:
// `let expected: TOMLTable = ["name": "kanso", "ports": [80, 443]]`.

extension TOMLValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension TOMLValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int) { self = .integer(value) }
}

extension TOMLValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .float(value) }
}

extension TOMLValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .boolean(value) }
}

extension TOMLValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: TOMLValue...) { self = .array(elements) }
}

extension TOMLValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (String, TOMLValue)...) {
        var table = TOMLTable()
        for (key, value) in elements { table[key] = value }
        self = .table(table)
    }
}
