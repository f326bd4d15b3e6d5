// Expressions, with Jinja2's precedence from loosest to tightest: `a if b else c`, or, and, not,
// comparisons (==, !=, <, <=, >, >=, in, not in; chained), + and -, ~, *, /, //, %, **, unary -
// and +, then a primary with its postfixes (.name, [index], [a:b:c], (call)) and its filters and
// tests (`| trim`, `is defined`). Reference: jinja2/parser.py, parse_condexpr down to parse_primary.

extension TemplateParser {
    mutating func parseExpression() throws(TemplateError) -> TemplateExpression {
        try descend()
        defer { depth -= 1 }
        return try parseConditional(allowConditional: true)
    }

    mutating func parseConditional(allowConditional: Bool) throws(TemplateError) -> TemplateExpression {
        var expression = try parseOr()
        while allowConditional, skip(name: "if") {
            let condition = try parseOr()
            let otherwise = skip(name: "else") ? try parseConditional(allowConditional: true) : nil
            expression = .conditional(expression, condition: condition, otherwise: otherwise)
        }
        return expression
    }

    private mutating func parseOr() throws(TemplateError) -> TemplateExpression {
        var left = try parseAnd()
        while skip(name: "or") { left = .binary(.or, left, try parseAnd()) }
        return left
    }

    private mutating func parseAnd() throws(TemplateError) -> TemplateExpression {
        var left = try parseNot()
        while skip(name: "and") { left = .binary(.and, left, try parseNot()) }
        return left
    }

    private mutating func parseNot() throws(TemplateError) -> TemplateExpression {
        try descend()
        defer { depth -= 1 }
        if skip(name: "not") { return .not(try parseNot()) }
        return try parseCompare()
    }

    private mutating func parseCompare() throws(TemplateError) -> TemplateExpression {
        let first = try parseSum()
        var comparisons: [(ComparisonOperator, TemplateExpression)] = []
        while true {
            let comparison: ComparisonOperator
            if case .symbol(let symbol)? = current?.kind, let found = ComparisonOperator(rawValue: symbol) {
                index += 1
                comparison = found
            } else if skip(name: "in") {
                comparison = .contains
            } else if isName("not"), index + 1 < lexemes.count, lexemes[index + 1].kind == .name("in") {
                index += 2
                comparison = .notContains
            } else {
                break
            }
            comparisons.append((comparison, try parseSum()))
        }
        return comparisons.isEmpty ? first : .compare(first, comparisons)
    }

    private mutating func parseSum() throws(TemplateError) -> TemplateExpression {
        var left = try parseConcatenation()
        while true {
            if skip(symbol: "+") {
                left = .binary(.add, left, try parseConcatenation())
            } else if skip(symbol: "-") {
                left = .binary(.subtract, left, try parseConcatenation())
            } else {
                return left
            }
        }
    }

    private mutating func parseConcatenation() throws(TemplateError) -> TemplateExpression {
        var left = try parseProduct()
        while skip(symbol: "~") { left = .binary(.concatenate, left, try parseProduct()) }
        return left
    }

    private mutating func parseProduct() throws(TemplateError) -> TemplateExpression {
        var left = try parsePower()
        while case .symbol(let symbol)? = current?.kind, ["*", "/", "//", "%"].contains(symbol) {
            index += 1
            left = .binary(BinaryOperator(rawValue: symbol)!, left, try parsePower())
        }
        return left
    }

    private mutating func parsePower() throws(TemplateError) -> TemplateExpression {
        var left = try parseUnary(withFilters: true)
        while skip(symbol: "**") { left = .binary(.power, left, try parseUnary(withFilters: true)) }
        return left
    }

    private mutating func parseUnary(withFilters: Bool) throws(TemplateError) -> TemplateExpression {
        try descend()
        defer { depth -= 1 }
        var expression: TemplateExpression
        if skip(symbol: "-") {
            expression = .negate(try parseUnary(withFilters: false))
        } else if skip(symbol: "+") {
            expression = try parseUnary(withFilters: false)
        } else {
            expression = try parsePrimary()
        }
        expression = try parsePostfix(expression)
        return withFilters ? try parseFiltersAndTests(expression) : expression
    }

    private mutating func parsePrimary() throws(TemplateError) -> TemplateExpression {
        let primaryLine = line
        guard let lexeme = advance() else { throw TemplateError(.syntax, "the template ends inside an expression", line: primaryLine) }
        switch lexeme.kind {
        case .name(let name):
            switch name {
            case "true", "True": return .literal(.bool(true))
            case "false", "False": return .literal(.bool(false))
            case "none", "None": return .literal(.none)
            default: return .name(name)
            }
        case .string(var text):
            // Adjacent string literals join, as in Python.
            while case .string(let more)? = current?.kind {
                text += more
                index += 1
            }
            return .literal(.string(text))
        case .integer(let value): return .literal(.int(value))
        case .float(let value): return .literal(.double(value))
        case .symbol("("):
            if skip(symbol: ")") { return .tuple([]) }
            let first = try parseExpression()
            guard skip(symbol: ",") else {
                try expect(symbol: ")")
                return first
            }
            var items = [first]
            while !isSymbol(")") {
                items.append(try parseExpression())
                if !skip(symbol: ",") { break }
            }
            try expect(symbol: ")")
            return .tuple(items)
        case .symbol("["):
            var items: [TemplateExpression] = []
            while !isSymbol("]") {
                items.append(try parseExpression())
                if !skip(symbol: ",") { break }
            }
            try expect(symbol: "]")
            return .list(items)
        case .symbol("{"):
            var pairs: [(key: TemplateExpression, value: TemplateExpression)] = []
            while !isSymbol("}") {
                let key = try parseExpression()
                try expect(symbol: ":")
                pairs.append((key, try parseExpression()))
                if !skip(symbol: ",") { break }
            }
            try expect(symbol: "}")
            return .dictionary(pairs)
        default:
            index -= 1
            throw TemplateError(.syntax, "unexpected \(describeCurrent()) in an expression", line: primaryLine)
        }
    }

    private mutating func parsePostfix(_ base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var expression = base
        while true {
            if skip(symbol: ".") {
                if case .integer(let position)? = current?.kind {
                    index += 1
                    expression = .item(expression, .literal(.int(position)))
                } else {
                    expression = .attribute(expression, try expectName())
                }
            } else if skip(symbol: "[") {
                expression = try parseSubscript(of: expression)
            } else if isSymbol("(") {
                let callLine = line
                index += 1
                let arguments = try parseArguments()
                if case .attribute(_, let method) = expression, !TemplateMethods.names.contains(method) {
                    throw TemplateError(.unsupported, "the method .\(method)()", line: callLine)
                }
                expression = .call(expression, arguments)
            } else {
                return expression
            }
        }
    }

    /// After `[`: an index, or a slice `start:stop:step` with any part left out.
    private mutating func parseSubscript(of base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var parts: [TemplateExpression?] = []
        var current: TemplateExpression? = isSymbol(":") || isSymbol("]") ? nil : try parseExpression()
        var isSlice = false
        while skip(symbol: ":") {
            isSlice = true
            parts.append(current)
            current = isSymbol(":") || isSymbol("]") ? nil : try parseExpression()
        }
        parts.append(current)
        try expect(symbol: "]")
        guard isSlice else {
            guard let index = parts[0] else { throw TemplateError(.syntax, "an empty subscript []", line: line) }
            return .item(base, index)
        }
        guard parts.count <= 3 else { throw TemplateError(.syntax, "a slice takes at most start:stop:step", line: line) }
        return .slice(base, start: parts[0], stop: parts.count > 1 ? parts[1] : nil, step: parts.count > 2 ? parts[2] : nil)
    }

    /// After `(`: positional arguments, then `name=value` ones, through `)`.
    private mutating func parseArguments() throws(TemplateError) -> Arguments {
        var arguments = Arguments()
        while !isSymbol(")") {
            if isSymbol("*") || isSymbol("**") { throw TemplateError(.unsupported, "*args and **kwargs in a call", line: line) }
            if case .name(let name)? = current?.kind, index + 1 < lexemes.count, lexemes[index + 1].kind == .symbol("=") {
                index += 2
                arguments.named.append((name, try parseExpression()))
            } else {
                guard arguments.named.isEmpty else {
                    throw TemplateError(.syntax, "a positional argument after a named one", line: line)
                }
                arguments.positional.append(try parseExpression())
            }
            if !skip(symbol: ",") { break }
        }
        try expect(symbol: ")")
        return arguments
    }

    private mutating func parseFiltersAndTests(_ base: TemplateExpression) throws(TemplateError) -> TemplateExpression {
        var expression = base
        while true {
            if skip(symbol: "|") {
                let filterLine = line
                let name = try expectName()
                guard TemplateFilters.names.contains(name) else {
                    throw TemplateError(.unsupported, "the filter '\(name)'", line: filterLine)
                }
                let arguments = skip(symbol: "(") ? try parseArguments() : Arguments()
                expression = .filter(expression, name: name, arguments)
            } else if skip(name: "is") {
                let testLine = line
                let negated = skip(name: "not")
                let name = try expectName()
                guard TemplateTests.names.contains(name) else {
                    throw TemplateError(.unsupported, "the test 'is \(name)'", line: testLine)
                }
                var arguments = Arguments()
                if skip(symbol: "(") {
                    arguments = try parseArguments()
                } else if let kind = current?.kind, Self.startsTestArgument(kind) {
                    arguments.positional = [try parsePostfix(try parsePrimary())]
                }
                expression = .test(expression, name: name, arguments, negated: negated)
            } else {
                return expression
            }
        }
    }

    /// Whether a test's single argument follows without parentheses (`is equalto 'x'`).
    private static func startsTestArgument(_ kind: Lexeme.Kind) -> Bool {
        switch kind {
        case .name(let name): return !["else", "or", "and", "if", "is", "in", "not"].contains(name)
        case .string, .integer, .float, .symbol("["), .symbol("{"): return true
        default: return false
        }
    }
}
