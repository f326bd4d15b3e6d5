// Lexemes -> statements, following Jinja2's parser (jinja2/parser.py). Tags this subset does not
// implement are refused by name here, at parse time, as are filters, tests and methods it does
// not know; a template that parses is one the renderer can render as Jinja2 would.

struct TemplateParser {
    var lexemes: [Lexeme]
    var index = 0
    /// How deep blocks and expressions nest here: a template comes with a model file, and one
    /// nested absurdly deep must be refused, not overflow the stack.
    var depth = 0
    static let maximumDepth = 100

    mutating func descend() throws(TemplateError) {
        depth += 1
        if depth > Self.maximumDepth {
            throw TemplateError(.unsupported, "blocks or expressions nested more than \(Self.maximumDepth) deep", line: line)
        }
    }

    /// Jinja tags outside the subset, with what they are, for the refusal message.
    static let refusedTags: [String: String] = [
        "macro": "macros", "call": "macro calls", "filter": "filter blocks", "include": "includes",
        "import": "imports", "from": "imports", "extends": "template inheritance", "block": "template blocks",
        "with": "with blocks", "autoescape": "autoescape blocks", "do": "the do extension",
        "generation": "generation blocks", "trans": "translations", "raw": "raw blocks",
    ]

    static func parse(_ text: String) throws(TemplateError) -> [TemplateNode] {
        var parser = TemplateParser(lexemes: try TemplateLexer.lex(text))
        let (nodes, end) = try parser.parseBody(until: [])
        if let end { throw TemplateError(.syntax, "unexpected {% \(end.name) %}", line: end.line) }
        return nodes
    }

    // MARK: Lexeme access

    var current: Lexeme? { index < lexemes.count ? lexemes[index] : nil }
    var line: Int { current?.line ?? lexemes.last?.line ?? 1 }

    mutating func advance() -> Lexeme? {
        defer { index += 1 }
        return current
    }

    func isSymbol(_ symbol: String) -> Bool { current?.kind == .symbol(symbol) }
    func isName(_ name: String) -> Bool { current?.kind == .name(name) }

    mutating func skip(symbol: String) -> Bool {
        guard isSymbol(symbol) else { return false }
        index += 1
        return true
    }

    mutating func skip(name: String) -> Bool {
        guard isName(name) else { return false }
        index += 1
        return true
    }

    mutating func expect(symbol: String) throws(TemplateError) {
        guard skip(symbol: symbol) else { throw TemplateError(.syntax, "expected '\(symbol)', found \(describeCurrent())", line: line) }
    }

    mutating func expect(name: String) throws(TemplateError) {
        guard skip(name: name) else { throw TemplateError(.syntax, "expected '\(name)', found \(describeCurrent())", line: line) }
    }

    mutating func expectName() throws(TemplateError) -> String {
        guard case .name(let name)? = current?.kind else {
            throw TemplateError(.syntax, "expected a name, found \(describeCurrent())", line: line)
        }
        index += 1
        return name
    }

    mutating func expectBlockEnd() throws(TemplateError) {
        guard current?.kind == .blockEnd else { throw TemplateError(.syntax, "expected %}, found \(describeCurrent())", line: line) }
        index += 1
    }

    func describeCurrent() -> String {
        guard let kind = current?.kind else { return "the end of the template" }
        switch kind {
        case .data: return "text"
        case .variableBegin: return "{{"
        case .variableEnd: return "}}"
        case .blockBegin: return "{%"
        case .blockEnd: return "%}"
        case .name(let name): return "'\(name)'"
        case .string(let text): return TemplateValue.pythonQuoted(text)
        case .integer(let value): return String(value)
        case .float(let value): return String(value)
        case .symbol(let symbol): return "'\(symbol)'"
        }
    }

    // MARK: Statements

    /// Nodes up to one of the `ends` tags (consumed, with its name and line) or the end of the template.
    mutating func parseBody(until ends: Set<String>) throws(TemplateError) -> ([TemplateNode], end: (name: String, line: Int)?) {
        try descend()
        defer { depth -= 1 }
        var nodes: [TemplateNode] = []
        while let lexeme = advance() {
            switch lexeme.kind {
            case .data(let text):
                nodes.append(.text(text))
            case .variableBegin:
                let expression = try parseExpression()
                guard current?.kind == .variableEnd else {
                    throw TemplateError(.syntax, "expected }}, found \(describeCurrent())", line: line)
                }
                index += 1
                nodes.append(.output(expression, line: lexeme.line))
            case .blockBegin:
                let tagLine = line
                let tag = try expectName()
                if ends.contains(tag) { return (nodes, (tag, tagLine)) }
                nodes.append(try parseStatement(tag, line: tagLine))
            default:
                throw TemplateError(.syntax, "unexpected \(describeCurrent())", line: lexeme.line)
            }
        }
        if let first = ends.sorted().first {
            throw TemplateError(.syntax, "the template ends before {% \(first) %}", line: line)
        }
        return (nodes, nil)
    }

    private mutating func parseStatement(_ tag: String, line tagLine: Int) throws(TemplateError) -> TemplateNode {
        switch tag {
        case "if": return try parseIf(line: tagLine)
        case "for": return try parseFor(line: tagLine)
        case "set": return try parseSet(line: tagLine)
        case "break", "continue":
            try expectBlockEnd()
            return tag == "break" ? .breakLoop(line: tagLine) : .continueLoop(line: tagLine)
        default:
            if let what = Self.refusedTags[tag] { throw TemplateError(.unsupported, "{% \(tag) %} (\(what))", line: tagLine) }
            throw TemplateError(.syntax, "unknown tag {% \(tag) %}", line: tagLine)
        }
    }

    private mutating func parseIf(line tagLine: Int) throws(TemplateError) -> TemplateNode {
        var branches: [(condition: TemplateExpression, body: [TemplateNode])] = []
        var condition = try parseExpression()
        while true {
            try expectBlockEnd()
            let (body, end) = try parseBody(until: ["elif", "else", "endif"])
            branches.append((condition, body))
            switch end?.name {
            case "elif":
                condition = try parseExpression()
            case "else":
                try expectBlockEnd()
                let (otherwise, _) = try parseBody(until: ["endif"])
                try expectBlockEnd()
                return .branch(branches, otherwise: otherwise, line: tagLine)
            default:
                try expectBlockEnd()
                return .branch(branches, otherwise: [], line: tagLine)
            }
        }
    }

    private mutating func parseFor(line tagLine: Int) throws(TemplateError) -> TemplateNode {
        var targets = [try expectName()]
        while skip(symbol: ",") { targets.append(try expectName()) }
        try expect(name: "in")
        // The iterable stops before a trailing `if` (a loop filter), as in Jinja2.
        let iterable = try parseConditional(allowConditional: false)
        var condition: TemplateExpression?
        if skip(name: "if") { condition = try parseExpression() }
        if isName("recursive") { throw TemplateError(.unsupported, "recursive for loops", line: line) }
        try expectBlockEnd()
        let (body, end) = try parseBody(until: ["else", "endfor"])
        var otherwise: [TemplateNode] = []
        if end?.name == "else" {
            try expectBlockEnd()
            (otherwise, _) = try parseBody(until: ["endfor"])
        }
        try expectBlockEnd()
        return .loop(TemplateLoop(targets: targets, iterable: iterable, condition: condition, body: body,
                                  otherwise: otherwise, line: tagLine))
    }

    private mutating func parseSet(line tagLine: Int) throws(TemplateError) -> TemplateNode {
        let first = try expectName()
        let target: AssignmentTarget
        if skip(symbol: ".") {
            target = .attribute(namespace: first, attribute: try expectName())
        } else if isSymbol(",") {
            var names = [first]
            while skip(symbol: ",") { names.append(try expectName()) }
            target = .names(names)
        } else {
            target = .name(first)
        }
        if current?.kind == .blockEnd, case .name(let name) = target {
            index += 1
            let (body, _) = try parseBody(until: ["endset"])
            try expectBlockEnd()
            return .assignBlock(name: name, body: body, line: tagLine)
        }
        if isSymbol("|") { throw TemplateError(.unsupported, "filtered {% set %} blocks", line: line) }
        try expect(symbol: "=")
        var value = try parseExpression()
        // `set a, b = x, y`: the right side is a tuple.
        if skip(symbol: ",") {
            var items = [value]
            repeat { items.append(try parseExpression()) } while skip(symbol: ",")
            value = .tuple(items)
        }
        try expectBlockEnd()
        return .assign(target, value, line: tagLine)
    }
}
