/// The filters of `value | name(arguments)` this subset implements, as Jinja2 defines them
/// (jinja2/filters.py), except `tojson`, which is Hugging Face's (no HTML escaping, keys in their
/// order; transformers' chat template renderer replaces Jinja2's). The parser refuses any other.
enum TemplateFilters {
    static let names: Set<String> = [
        "trim", "length", "count", "tojson", "join", "upper", "lower", "capitalize", "title", "string", "int",
        "float", "default", "d", "first", "last", "list", "items", "select", "reject", "selectattr", "rejectattr",
        "map", "replace", "safe", "reverse",
    ]

    static func apply(_ name: String, to value: TemplateValue, _ arguments: TemplateRenderer.EvaluatedArguments,
                      renderer: TemplateRenderer, line: Int) throws(TemplateError) -> TemplateValue {
        let positional = arguments.positional
        func argument(_ index: Int, _ key: String) -> TemplateValue? {
            index < positional.count ? positional[index] : arguments.named[key]
        }
        switch name {
        case "trim":
            let characters = argument(0, "chars").flatMap { if case .string(let text) = $0 { return text }; return nil }
            return .string(TextFunctions.strip(value.text, characters: characters, leading: true, trailing: true))
        case "length", "count":
            switch value {
            case .string(let text): return .int(text.pythonLength)
            case .list(let items), .tuple(let items): return .int(items.count)
            case .dictionary(let dictionary): return .int(dictionary.count)
            case .undefined: return .int(0)
            default: throw TemplateError(.render, "\(value.typeName) has no length", line: line)
            }
        case "tojson":
            var indent: Int?
            if case .int(let spaces)? = argument(0, "indent") { indent = spaces }
            let sortKeys = argument(3, "sort_keys")?.isTrue ?? false
            return .string(try TemplateJSON.encode(value, indent: indent, sortKeys: sortKeys, line: line))
        case "join":
            var items = try TemplateRenderer.iterationItems(value, line: line)
            if case .string(let attributeName)? = arguments.named["attribute"] {
                items = try items.map { item throws(TemplateError) in try renderer.attribute(attributeName, of: item, line: line) }
            }
            return .string(items.map(\.text).joined(separator: argument(0, "d")?.text ?? ""))
        case "upper": return .string(value.text.uppercased())
        case "lower": return .string(value.text.lowercased())
        case "capitalize": return .string(TextFunctions.capitalize(value.text))
        case "title": return .string(TextFunctions.title(value.text))
        case "string": return .string(value.text)
        case "safe": return value
        case "int", "float":
            return try TextFunctions.number(value, integer: name == "int", fallback: argument(0, "default"), line: line)
        case "default", "d":
            let fallback = argument(0, "default_value") ?? .string("")
            let whenFalse = argument(1, "boolean")?.isTrue ?? false
            return value.isUndefined || (whenFalse && !value.isTrue) ? fallback : value
        case "first", "last":
            let items = try TemplateRenderer.iterationItems(value, line: line)
            return (name == "first" ? items.first : items.last) ?? .undefined(name)
        case "list": return .list(try TemplateRenderer.iterationItems(value, line: line))
        case "reverse":
            if case .string(let text) = value { return .string(String(String.UnicodeScalarView(text.unicodeScalars.reversed()))) }
            return .list(try TemplateRenderer.iterationItems(value, line: line).reversed())
        case "items":
            guard case .dictionary(let dictionary) = value else {
                if value.isUndefined { return .list([]) }
                throw TemplateError(.render, "items needs a dictionary, not \(value.typeName)", line: line)
            }
            return .list(dictionary.pairs.map { .tuple([.string($0.key), $0.value]) })
        case "select", "reject", "selectattr", "rejectattr":
            return .list(try selected(name, value, positional, renderer: renderer, line: line))
        case "map":
            let items = try TemplateRenderer.iterationItems(value, line: line)
            if case .string(let attributeName)? = arguments.named["attribute"] {
                let fallback = arguments.named["default"]
                return .list(try items.map { item throws(TemplateError) in
                    let found = try renderer.attribute(attributeName, of: item, line: line)
                    return found.isUndefined ? fallback ?? found : found
                })
            }
            guard case .string(let filter)? = positional.first, names.contains(filter) else {
                throw TemplateError(.unsupported, "map without attribute= or the name of a known filter", line: line)
            }
            let rest = TemplateRenderer.EvaluatedArguments(positional: Array(positional.dropFirst()), named: arguments.named)
            return .list(try items.map { item throws(TemplateError) in try apply(filter, to: item, rest, renderer: renderer, line: line) })
        case "replace":
            guard case .string(let old)? = argument(0, "old"), case .string(let new)? = argument(1, "new") else {
                throw TemplateError(.render, "replace needs two strings", line: line)
            }
            var limit: Int?
            if case .int(let count)? = argument(2, "count") { limit = count }
            return .string(TextFunctions.replace(value.text, old, new, limit: limit))
        default:
            throw TemplateError(.unsupported, "the filter '\(name)'", line: line)
        }
    }

    /// select/reject by a test (or by truth), selectattr/rejectattr by a test of an attribute.
    private static func selected(_ name: String, _ value: TemplateValue, _ arguments: [TemplateValue],
                                 renderer: TemplateRenderer, line: Int) throws(TemplateError) -> [TemplateValue] {
        var rest = arguments[...]
        var attributeName: String?
        if name.hasSuffix("attr") {
            guard case .string(let attribute)? = rest.popFirst() else {
                throw TemplateError(.render, "\(name) needs the attribute's name", line: line)
            }
            attributeName = attribute
        }
        var test: String?
        if let first = rest.popFirst() {
            guard case .string(let testName) = first, TemplateTests.names.contains(testName) else {
                throw TemplateError(.unsupported, "\(name) with the test \(first.representation)", line: line)
            }
            test = testName
        }
        let keep = name.hasPrefix("select")
        var result: [TemplateValue] = []
        for item in try TemplateRenderer.iterationItems(value, line: line) {
            let subject = try attributeName.map { name throws(TemplateError) in try renderer.attribute(name, of: item, line: line) } ?? item
            let passes = try test.map { test throws(TemplateError) in try TemplateTests.check(test, subject, Array(rest), line: line) }
                ?? subject.isTrue
            if passes == keep { result.append(item) }
        }
        return result
    }
}
