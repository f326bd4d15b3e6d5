/// Methods templates call on values, with Python's meaning: strings (`strip`, `split`,
/// `startswith`, ...) and dictionaries (`items`, `keys`, `values`, `get`). The parser refuses a
/// call of any other method name.
enum TemplateMethods {
    static let names: Set<String> = [
        "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "upper", "lower", "title", "capitalize",
        "replace", "items", "keys", "values", "get",
    ]

    static func call(_ method: String, on receiver: TemplateValue, _ arguments: TemplateRenderer.EvaluatedArguments,
                     line: Int) throws(TemplateError) -> TemplateValue {
        let positional = arguments.positional
        func failure() -> TemplateError {
            TemplateError(.render, "\(receiver.typeName) has no method .\(method)() taking these arguments", line: line)
        }
        switch receiver {
        case .string(let text):
            func optionalString(_ index: Int) throws(TemplateError) -> String? {
                guard index < positional.count else { return nil }
                switch positional[index] {
                case .string(let value): return value
                case .none: return nil
                default: throw failure()
                }
            }
            switch method {
            case "strip", "lstrip", "rstrip":
                return .string(TextFunctions.strip(text, characters: try optionalString(0),
                                                   leading: method != "rstrip", trailing: method != "lstrip"))
            case "startswith", "endswith":
                let candidates: [TemplateValue]
                switch positional.first {
                case .string?: candidates = [positional[0]]
                case .list(let items)?, .tuple(let items)?: candidates = items
                default: throw failure()
                }
                for candidate in candidates {
                    guard case .string(let affix) = candidate else { throw failure() }
                    let found = method == "startswith" ? text.unicodeScalars.starts(with: affix.unicodeScalars)
                        : text.unicodeScalars.reversed().starts(with: affix.unicodeScalars.reversed())
                    if found { return .bool(true) }
                }
                return .bool(false)
            case "split":
                var limit = -1
                if positional.count > 1 {
                    guard case .int(let value) = positional[1] else { throw failure() }
                    limit = value
                } else if case .int(let value)? = arguments.named["maxsplit"] {
                    limit = value
                }
                let separator = try optionalString(0) ?? arguments.named["sep"].flatMap { if case .string(let s) = $0 { return s }; return nil }
                if separator == "" { throw TemplateError(.render, "split: empty separator", line: line) }
                return .list(TextFunctions.split(text, separator: separator, limit: limit).map { .string($0) })
            case "upper": return .string(text.uppercased())
            case "lower": return .string(text.lowercased())
            case "title": return .string(TextFunctions.title(text))
            case "capitalize": return .string(TextFunctions.capitalize(text))
            case "replace":
                guard positional.count >= 2, case .string(let old) = positional[0], case .string(let new) = positional[1] else {
                    throw failure()
                }
                var limit: Int?
                if positional.count > 2, case .int(let count) = positional[2] { limit = count }
                return .string(TextFunctions.replace(text, old, new, limit: limit))
            default: throw failure()
            }
        case .dictionary(let dictionary):
            switch method {
            case "items": return .list(dictionary.pairs.map { .tuple([.string($0.key), $0.value]) })
            case "keys": return .list(dictionary.keys.map { .string($0) })
            case "values": return .list(dictionary.pairs.map(\.value))
            case "get":
                guard case .string(let key)? = positional.first else { throw failure() }
                return dictionary[key] ?? (positional.count > 1 ? positional[1] : .none)
            default: throw failure()
            }
        case .undefined(let what):
            throw TemplateError(.render, "'\(what)' is undefined, so it has no method .\(method)()", line: line)
        default:
            throw failure()
        }
    }
}

/// The global functions: `namespace(...)`, `raise_exception(message)` (transformers' and
/// llama.cpp's), `range(...)` and `dict(...)`. Others are refused by name when called.
enum TemplateGlobals {
    static func call(_ name: String, _ arguments: TemplateRenderer.EvaluatedArguments, line: Int) throws(TemplateError) -> TemplateValue {
        switch name {
        case "namespace", "dict":
            var attributes = TemplateDictionary()
            for value in arguments.positional {
                guard case .dictionary(let initial) = value else {
                    throw TemplateError(.render, "\(name)() takes a dictionary or name=value arguments", line: line)
                }
                for pair in initial.pairs { attributes[pair.key] = pair.value }
            }
            for pair in arguments.named.pairs { attributes[pair.key] = pair.value }
            return name == "dict" ? .dictionary(attributes) : .namespace(TemplateNamespace(attributes))
        case "raise_exception":
            throw TemplateError(.raised, arguments.positional.first?.text ?? "", line: line)
        case "range":
            var bounds: [Int] = []
            for value in arguments.positional {
                guard case .int(let bound) = value else { throw TemplateError(.render, "range() takes integers", line: line) }
                bounds.append(bound)
            }
            let (start, stop, step) = bounds.count == 1 ? (0, bounds[0], 1)
                : bounds.count == 2 ? (bounds[0], bounds[1], 1)
                : bounds.count == 3 ? (bounds[0], bounds[1], bounds[2]) : (0, 0, 0)
            guard step != 0, (1...3).contains(bounds.count) else {
                throw TemplateError(.render, "range() takes 1 to 3 integers and a non-zero step", line: line)
            }
            let values = Array(stride(from: start, to: stop, by: step))
            guard values.count <= 100_000 else { throw TemplateError(.render, "range() of more than 100000 items", line: line) }
            return .list(values.map { .int($0) })
        default:
            throw TemplateError(.unsupported, "the function \(name)(), which Kanso does not provide", line: line)
        }
    }
}
