/// The mutable tree a document is assembled in. Unlike `TOMLTable`, each table remembers how it
/// came to exist, because TOML's redefinition rules depend on it.
final class TOMLTableNode {
    enum Origin {
        case root
        /// Created as a parent of a `[header]` (`a` in `[a.b]`); may be defined once later, by its own
        /// header or by dotted keys (toml-lang/toml#771).
        case implicitParent
        /// Defined by its own `[header]` or as an element of `[[header]]`.
        case header
        /// Created by a dotted key (`a` in `a.b = 1`); extendable only by more dotted keys.
        case dottedKey
    }

    enum Child {
        /// Any finished value, including inline tables and static arrays: these are never extended.
        case value(TOMLValue)
        case table(TOMLTableNode)
        /// Elements of `[[header]]`, in order; new headers extend the last one.
        case tableArray(TOMLTableArrayNode)
    }

    var origin: Origin
    private(set) var keys: [String] = []  // in document order
    private var childrenByKey: [String: Child] = [:]

    init(origin: Origin) {
        self.origin = origin
    }

    subscript(key: String) -> Child? {
        childrenByKey[key]
    }

    /// Adds a new child; callers have checked that `key` is not present.
    func add(_ child: Child, for key: String) {
        keys.append(key)
        childrenByKey[key] = child
    }

    /// Recursion depth is bounded by the parser's nesting limit.
    func makeTable() -> TOMLTable {
        var table = TOMLTable()
        for key in keys {
            switch childrenByKey[key] {
            case .value(let value): table[key] = value
            case .table(let node): table[key] = .table(node.makeTable())
            case .tableArray(let array): table[key] = .array(array.elements.map { .table($0.makeTable()) })
            case nil: break
            }
        }
        return table
    }
}

/// The elements of an array of tables; a class so headers can append to it in place.
final class TOMLTableArrayNode {
    private(set) var elements: [TOMLTableNode] = []

    /// The table `[[header]]` lines and later sub-headers write into.
    var last: TOMLTableNode? { elements.last }

    func appendElement() -> TOMLTableNode {
        let element = TOMLTableNode(origin: .header)
        elements.append(element)
        return element
    }
}
