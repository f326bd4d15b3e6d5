/// Applies TOML's definition rules while the parser reports headers and key/value pairs:
/// keys and tables are defined once, dotted-key tables are not reopened by headers,
/// inline tables and static arrays are never extended.
struct TOMLDocumentBuilder {
    let root = TOMLTableNode(origin: .root)
    /// Where key/value pairs go: the table of the latest header.
    private(set) var currentTable: TOMLTableNode
    /// How many keys deep `currentTable` is below the root.
    private(set) var currentDepth = 0

    init() {
        currentTable = root
    }

    /// `[a.b.c]`
    mutating func defineTable(_ key: TOMLKey) throws(TOMLParseError) {
        let parent = try parentForHeader(key)
        let name = key.parts[key.parts.count - 1]
        let header = "[\(key.description)]"
        switch parent[name] {
        case nil:
            let table = TOMLTableNode(origin: .header)
            parent.add(.table(table), for: name)
            currentTable = table
        case .table(let table):
            switch table.origin {
            case .implicitParent:
                table.origin = .header
                currentTable = table
            case .dottedKey:
                throw TOMLParseError(at: key.position, "table \(header) was already defined by dotted keys")
            case .header, .root:
                throw TOMLParseError(at: key.position, "table \(header) is defined twice")
            }
        case .tableArray:
            throw TOMLParseError(at: key.position, "cannot define table \(header): it is an array of tables")
        case .value(let value):
            throw TOMLParseError(at: key.position, "cannot define table \(header): key \"\(key.description)\" already holds \(Self.describe(value))")
        }
        currentDepth = key.parts.count
    }

    /// `[[a.b.c]]`
    mutating func appendTableArrayElement(_ key: TOMLKey) throws(TOMLParseError) {
        let parent = try parentForHeader(key)
        let name = key.parts[key.parts.count - 1]
        let header = "[[\(key.description)]]"
        switch parent[name] {
        case nil:
            let array = TOMLTableArrayNode()
            parent.add(.tableArray(array), for: name)
            currentTable = array.appendElement()
        case .tableArray(let array):
            currentTable = array.appendElement()
        case .table:
            throw TOMLParseError(at: key.position, "cannot append to \(header): \"\(key.description)\" is a table, not an array of tables")
        case .value(.array):
            throw TOMLParseError(at: key.position, "cannot append to \(header): \"\(key.description)\" is a static array")
        case .value(let value):
            throw TOMLParseError(at: key.position, "cannot append to \(header): key \"\(key.description)\" already holds \(Self.describe(value))")
        }
        currentDepth = key.parts.count
    }

    /// `a.b.c = value` under the current header.
    func insert(_ value: TOMLValue, at key: TOMLKey) throws(TOMLParseError) {
        try Self.insert(value, at: key, into: currentTable)
    }

    /// Also used for the pairs of an inline table, which follow the same dotted-key rules.
    static func insert(_ value: TOMLValue, at key: TOMLKey, into table: TOMLTableNode) throws(TOMLParseError) {
        var target = table
        for (offset, part) in key.parts.dropLast().enumerated() {
            let path = key.parts[...offset]
            switch target[part] {
            case nil:
                let created = TOMLTableNode(origin: .dottedKey)
                target.add(.table(created), for: part)
                target = created
            case .table(let existing) where existing.origin == .dottedKey || existing.origin == .implicitParent:
                // A parent created only implicitly by `[a.b.c]` has not been defined yet; this block now defines it.
                existing.origin = .dottedKey
                target = existing
            case .table:
                throw TOMLParseError(at: key.position, "cannot add key \"\(key.description)\": table \"\(TOMLKey.describe(path))\" was defined by a table header, not by dotted keys")
            case .tableArray:
                throw TOMLParseError(at: key.position, "cannot add key \"\(key.description)\": \"\(TOMLKey.describe(path))\" is an array of tables")
            case .value(let existing):
                throw TOMLParseError(at: key.position, "cannot add key \"\(key.description)\": \"\(TOMLKey.describe(path))\" already holds \(describe(existing))")
            }
        }
        let name = key.parts[key.parts.count - 1]
        guard target[name] == nil else {
            throw TOMLParseError(at: key.position, "key \"\(key.description)\" is defined twice")
        }
        target.add(.value(value), for: name)
    }

    /// Walks a header's parent path, creating missing parents; the last element of an array of tables is entered.
    private func parentForHeader(_ key: TOMLKey) throws(TOMLParseError) -> TOMLTableNode {
        var target = root
        for (offset, part) in key.parts.dropLast().enumerated() {
            let path = key.parts[...offset]
            switch target[part] {
            case nil:
                let created = TOMLTableNode(origin: .implicitParent)
                target.add(.table(created), for: part)
                target = created
            case .table(let existing):
                target = existing
            case .tableArray(let array):
                guard let last = array.last else { return target }  // arrays of tables are never empty
                target = last
            case .value(let value):
                throw TOMLParseError(at: key.position, "cannot define table [\(key.description)]: \"\(TOMLKey.describe(path))\" already holds \(Self.describe(value)), which cannot be extended")
            }
        }
        return target
    }

    /// "an inline table", "a static array", "an integer" ...
    static func describe(_ value: TOMLValue) -> String {
        switch value {
        case .table: "an inline table"
        case .array: "a static array"
        case .integer: "an integer"
        default: "a " + value.typeName
        }
    }
}
