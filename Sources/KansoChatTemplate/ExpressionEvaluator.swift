// Expression values, with Jinja2's (Python's) semantics: `and`/`or` give one of their operands,
// `+` adds numbers and joins strings or lists but never mixes them, `~` joins anything as text,
// `/` divides to a float and `//` floors, an index past the end or a missing key is undefined,
// while an attribute of something undefined is an error.

extension TemplateRenderer {
    func evaluate(_ expression: TemplateExpression, line: Int) throws(TemplateError) -> TemplateValue {
        switch expression {
        case .literal(let value):
            return value
        case .name(let name):
            return lookup(name) ?? .undefined(name)
        case .list(let items), .tuple(let items):
            var values: [TemplateValue] = []
            for item in items { values.append(try evaluate(item, line: line)) }
            if case .tuple = expression { return .tuple(values) }
            return .list(values)
        case .dictionary(let pairs):
            var dictionary = TemplateDictionary()
            for pair in pairs {
                guard case .string(let key) = try evaluate(pair.key, line: line) else {
                    throw TemplateError(.unsupported, "dictionary keys other than strings", line: line)
                }
                dictionary[key] = try evaluate(pair.value, line: line)
            }
            return .dictionary(dictionary)
        case .attribute(let base, let name):
            return try attribute(name, of: try evaluate(base, line: line), line: line)
        case .item(let base, let key):
            return try item(try evaluate(key, line: line), of: try evaluate(base, line: line), line: line)
        case .slice(let base, let start, let stop, let step):
            return try slice(try evaluate(base, line: line), start: start.map { e throws(TemplateError) in try evaluate(e, line: line) },
                             stop: stop.map { e throws(TemplateError) in try evaluate(e, line: line) },
                             step: step.map { e throws(TemplateError) in try evaluate(e, line: line) }, line: line)
        case .call(let callee, let arguments):
            return try call(callee, arguments, line: line)
        case .filter(let base, let name, let arguments):
            let value = try evaluate(base, line: line)
            return try TemplateFilters.apply(name, to: value, try evaluate(arguments, line: line), renderer: self, line: line)
        case .test(let base, let name, let arguments, let negated):
            let value = try evaluate(base, line: line)
            let result = try TemplateTests.check(name, value, try evaluate(arguments, line: line).positional, line: line)
            return .bool(result != negated)
        case .not(let operand):
            return .bool(!(try evaluate(operand, line: line)).isTrue)
        case .negate(let operand):
            switch try evaluate(operand, line: line) {
            case .int(let value): return .int(-value)
            case .double(let value): return .double(-value)
            case let other: throw TemplateError(.render, "cannot negate \(other.typeName)", line: line)
            }
        case .binary(let operation, let left, let right):
            let first = try evaluate(left, line: line)
            switch operation {
            case .and: return first.isTrue ? try evaluate(right, line: line) : first
            case .or: return first.isTrue ? first : try evaluate(right, line: line)
            default: return try TemplateArithmetic.apply(operation, first, try evaluate(right, line: line), line: line)
            }
        case .compare(let first, let comparisons):
            var left = try evaluate(first, line: line)
            for (comparison, operand) in comparisons {
                let right = try evaluate(operand, line: line)
                if !(try TemplateArithmetic.compare(comparison, left, right, line: line)) { return .bool(false) }
                left = right
            }
            return .bool(true)
        case .conditional(let value, let condition, let otherwise):
            if try evaluate(condition, line: line).isTrue { return try evaluate(value, line: line) }
            return try otherwise.map { e throws(TemplateError) in try evaluate(e, line: line) } ?? .undefined("else")
        }
    }

    struct EvaluatedArguments {
        var positional: [TemplateValue]
        var named: TemplateDictionary
    }

    func evaluate(_ arguments: Arguments, line: Int) throws(TemplateError) -> EvaluatedArguments {
        var positional: [TemplateValue] = []
        for argument in arguments.positional { positional.append(try evaluate(argument, line: line)) }
        var named = TemplateDictionary()
        for argument in arguments.named { named[argument.name] = try evaluate(argument.value, line: line) }
        return EvaluatedArguments(positional: positional, named: named)
    }

    /// `base.name`: a dictionary's key or a namespace's attribute; undefined when absent.
    func attribute(_ name: String, of base: TemplateValue, line: Int) throws(TemplateError) -> TemplateValue {
        switch base {
        case .undefined(let what): throw TemplateError(.render, "'\(what)' is undefined, so it has no attribute '\(name)'", line: line)
        case .dictionary(let dictionary): return dictionary[name] ?? .undefined(name)
        case .namespace(let namespace): return namespace.attributes[name] ?? .undefined(name)
        default: return .undefined(name)
        }
    }

    /// `base[key]`: a list's item (negative from the end), a dictionary's value, a character.
    func item(_ key: TemplateValue, of base: TemplateValue, line: Int) throws(TemplateError) -> TemplateValue {
        switch (base, key) {
        case (.undefined(let what), _):
            throw TemplateError(.render, "'\(what)' is undefined, so it has no item \(key.representation)", line: line)
        case (.list(let items), .int(let position)), (.tuple(let items), .int(let position)):
            let index = position < 0 ? items.count + position : position
            return items.indices.contains(index) ? items[index] : .undefined("[\(position)]")
        case (.string(let text), .int(let position)):
            let scalars = Array(text.unicodeScalars)
            let index = position < 0 ? scalars.count + position : position
            return scalars.indices.contains(index) ? .string(String(scalars[index])) : .undefined("[\(position)]")
        case (.dictionary(let dictionary), .string(let name)):
            return dictionary[name] ?? .undefined(name)
        case (.namespace(let namespace), .string(let name)):
            return namespace.attributes[name] ?? .undefined(name)
        default:
            return .undefined("[\(key.representation)]")
        }
    }

    /// Python's slice of a list or string, `start:stop:step` with any part absent (none).
    func slice(_ base: TemplateValue, start: TemplateValue?, stop: TemplateValue?, step: TemplateValue?,
               line: Int) throws(TemplateError) -> TemplateValue {
        func bound(_ value: TemplateValue?) throws(TemplateError) -> Int? {
            switch value {
            case nil, .none?: return nil
            case .int(let number)?: return number
            case let other?: throw TemplateError(.render, "a slice bound must be an integer, not \(other.typeName)", line: line)
            }
        }
        let stride = try bound(step) ?? 1
        guard stride != 0 else { throw TemplateError(.render, "a slice step cannot be zero", line: line) }
        func indices(count: Int) throws(TemplateError) -> [Int] {
            func clamp(_ value: Int?, _ fallback: Int) -> Int {
                guard var value else { return fallback }
                if value < 0 { value += count }
                return stride > 0 ? min(max(value, 0), count) : min(max(value, -1), count - 1)
            }
            let first = clamp(try bound(start), stride > 0 ? 0 : count - 1)
            let end = clamp(try bound(stop), stride > 0 ? count : -1)
            return Array(Swift.stride(from: first, to: end, by: stride))
        }
        switch base {
        case .list(let items): return .list(try indices(count: items.count).map { items[$0] })
        case .tuple(let items): return .tuple(try indices(count: items.count).map { items[$0] })
        case .string(let text):
            let scalars = Array(text.unicodeScalars)
            var view = String.UnicodeScalarView()
            for index in try indices(count: scalars.count) { view.append(scalars[index]) }
            return .string(String(view))
        case .undefined(let what): throw TemplateError(.render, "'\(what)' is undefined, so it cannot be sliced", line: line)
        default: throw TemplateError(.render, "cannot slice \(base.typeName)", line: line)
        }
    }

    /// A method call on a value, or one of the global functions.
    private func call(_ callee: TemplateExpression, _ arguments: Arguments, line: Int) throws(TemplateError) -> TemplateValue {
        let values = try evaluate(arguments, line: line)
        if case .attribute(let base, let method) = callee {
            return try TemplateMethods.call(method, on: try evaluate(base, line: line), values, line: line)
        }
        guard case .name(let name) = callee, lookup(name) == nil else {
            throw TemplateError(.unsupported, "calling a value that is not a function", line: line)
        }
        return try TemplateGlobals.call(name, values, line: line)
    }
}
