/// The `tojson` filter as Hugging Face transformers defines it for chat templates: Python's
/// json.dumps(value, ensure_ascii=False, indent=indent, sort_keys=sort_keys), so keys keep their
/// order, non-ASCII text stays as it is, and items are separated by ", " (by "," before the
/// newline when indented).
enum TemplateJSON {
    static func encode(_ value: TemplateValue, indent: Int?, sortKeys: Bool, line: Int) throws(TemplateError) -> String {
        var output = ""
        try write(value, indent: indent, sortKeys: sortKeys, depth: 0, into: &output, line: line)
        return output
    }

    private static func write(_ value: TemplateValue, indent: Int?, sortKeys: Bool, depth: Int, into output: inout String,
                              line: Int) throws(TemplateError) {
        guard depth < 64 else { throw TemplateError(.render, "tojson: nested more than 64 deep", line: line) }
        func newline(_ level: Int) {
            if let indent { output += "\n" + String(repeating: " ", count: indent * level) }
        }
        let separator = indent == nil ? ", " : ","
        switch value {
        case .none: output += "null"
        case .bool(let flag): output += flag ? "true" : "false"
        case .int(let number): output += String(number)
        case .double(let number):
            output += number.isNaN ? "NaN" : number.isInfinite ? (number < 0 ? "-Infinity" : "Infinity") : TemplateValue.pythonFloat(number)
        case .string(let text): output += quoted(text)
        case .list(let items), .tuple(let items):
            guard !items.isEmpty else { output += "[]"; return }
            output += "["
            for (position, item) in items.enumerated() {
                if position > 0 { output += separator }
                newline(depth + 1)
                try write(item, indent: indent, sortKeys: sortKeys, depth: depth + 1, into: &output, line: line)
            }
            newline(depth)
            output += "]"
        case .dictionary(let dictionary):
            try writeObject(dictionary, indent: indent, sortKeys: sortKeys, depth: depth, into: &output, line: line)
        case .namespace(let namespace):
            try writeObject(namespace.attributes, indent: indent, sortKeys: sortKeys, depth: depth, into: &output, line: line)
        case .undefined(let what):
            throw TemplateError(.render, "tojson: '\(what)' is undefined", line: line)
        }
    }

    private static func writeObject(_ dictionary: TemplateDictionary, indent: Int?, sortKeys: Bool, depth: Int,
                                    into output: inout String, line: Int) throws(TemplateError) {
        guard !dictionary.isEmpty else { output += "{}"; return }
        var pairs = dictionary.pairs
        if sortKeys { pairs.sort { $0.key.unicodeScalars.lexicographicallyPrecedes($1.key.unicodeScalars) } }
        output += "{"
        for (position, pair) in pairs.enumerated() {
            if position > 0 { output += indent == nil ? ", " : "," }
            if let indent { output += "\n" + String(repeating: " ", count: indent * (depth + 1)) }
            output += quoted(pair.key) + ": "
            try write(pair.value, indent: indent, sortKeys: sortKeys, depth: depth + 1, into: &output, line: line)
        }
        if let indent { output += "\n" + String(repeating: " ", count: indent * depth) }
        output += "}"
    }

    /// A JSON string as Python writes it with ensure_ascii=False.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            default:
                if scalar.value < 0x20 {
                    result += "\\u" + TemplateValue.hex(scalar.value, digits: 4)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }
}
