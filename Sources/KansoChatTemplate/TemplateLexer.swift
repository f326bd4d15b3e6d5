// Template text -> lexemes, as Jinja2's lexer makes them with the settings chat templates are
// written for (Hugging Face transformers and llama.cpp render them so): trim_blocks (the first
// newline after a block or comment tag is dropped), lstrip_blocks (spaces and tabs from the start
// of a line up to a block or comment tag are dropped), `-` on a tag strips all white space on
// that side, `+` keeps it. Newlines are normalized to "\n" and one trailing newline is dropped
// (keep_trailing_newline = false). Reference: jinja2/lexer.py.

struct Lexeme: Equatable {
    enum Kind: Equatable {
        case data(String)
        case variableBegin, variableEnd, blockBegin, blockEnd
        case name(String)
        case string(String)
        case integer(Int)
        case float(Double)
        /// An operator or punctuation: `+`, `//`, `==`, `(`, `|`, ...
        case symbol(String)
    }

    var kind: Kind
    /// 1-based line of the template the lexeme starts on.
    var line: Int
}

struct TemplateLexer {
    private let source: [Unicode.Scalar]
    private var position = 0
    private var line = 1
    private var lexemes: [Lexeme] = []

    /// Multi-character symbols, longest first; then single characters.
    private static let symbols = ["//", "**", "==", "!=", "<=", ">="]
    private static let singleSymbols: Set<Unicode.Scalar> = ["+", "-", "*", "/", "%", "~", "[", "]", "(", ")", "{", "}",
                                                            "<", ">", "=", ".", ":", "|", ",", ";"]

    init(_ text: String) {
        var normalized: [Unicode.Scalar] = []
        var scalars = Array(text.unicodeScalars)[...]
        while let scalar = scalars.popFirst() {
            if scalar == "\r" {
                if scalars.first == "\n" { scalars.removeFirst() }
                normalized.append("\n")
            } else {
                normalized.append(scalar)
            }
        }
        if normalized.last == "\n" { normalized.removeLast() }
        source = normalized
    }

    static func lex(_ text: String) throws(TemplateError) -> [Lexeme] {
        var lexer = TemplateLexer(text)
        try lexer.run()
        return lexer.lexemes
    }

    private func starts(with text: String, at index: Int) -> Bool {
        var offset = index
        for scalar in text.unicodeScalars {
            guard offset < source.count, source[offset] == scalar else { return false }
            offset += 1
        }
        return true
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0B}" || scalar == "\u{0C}"
    }

    private mutating func emit(_ kind: Lexeme.Kind, line: Int) {
        lexemes.append(Lexeme(kind: kind, line: line))
    }

    private mutating func run() throws(TemplateError) {
        // Whether the text before the next tag starts a line: at the start, or after a tag whose
        // closing lexeme ended in a newline (lstrip_blocks looks at it; Jinja2's line_starting).
        var lineStarting = true
        while position < source.count {
            // The next tag opener.
            var opener = position
            while opener < source.count {
                if source[opener] == "{", opener + 1 < source.count, "{%#".unicodeScalars.contains(source[opener + 1]) { break }
                opener += 1
            }
            var text = Array(source[position..<opener])
            let textLine = line
            line += text.filter { $0 == "\n" }.count
            guard opener < source.count else {
                if !text.isEmpty { emit(.data(String(String.UnicodeScalarView(text))), line: textLine) }
                break
            }
            let tagKind = source[opener + 1]
            var after = opener + 2
            let sign = after < source.count && (source[after] == "-" || source[after] == "+") ? source[after] : nil
            if sign != nil { after += 1 }
            if sign == "-" {
                while let last = text.last, Self.isSpace(last) { text.removeLast() }
            } else if sign != "+", tagKind != "{" {
                // lstrip_blocks: only spaces and tabs between the line's start and the tag.
                let lineStart = (text.lastIndex(of: "\n").map { $0 + 1 }) ?? 0
                if lineStart > 0 || lineStarting, lineStart < text.count,
                   text[lineStart...].allSatisfy({ Self.isSpace($0) }) {
                    text.removeSubrange(lineStart...)
                }
            }
            if !text.isEmpty { emit(.data(String(String.UnicodeScalarView(text))), line: textLine) }
            position = after
            switch tagKind {
            case "#": lineStarting = try skipComment()
            case "%":
                try refuseRawBlock()
                emit(.blockBegin, line: line)
                lineStarting = try lexTag(closer: "%")
            default:
                emit(.variableBegin, line: line)
                lineStarting = try lexTag(closer: "}")
            }
        }
    }

    /// `{% raw %}` changes how the text after it is read; this subset refuses it by name.
    private func refuseRawBlock() throws(TemplateError) {
        var index = position
        while index < source.count, Self.isSpace(source[index]) { index += 1 }
        if starts(with: "raw", at: index), index + 3 < source.count,
           !(source[index + 3].properties.isAlphabetic || source[index + 3] == "_") {
            throw TemplateError(.unsupported, "{% raw %}", line: line)
        }
    }

    /// Consumes a comment through its `#}`; returns whether the closing lexeme ended in a newline.
    private mutating func skipComment() throws(TemplateError) -> Bool {
        let startLine = line
        while position < source.count {
            if source[position] == "-", starts(with: "-#}", at: position) {
                position += 3
                return skipWhitespaceAfterTag()
            }
            if source[position] == "+", starts(with: "+#}", at: position) {
                position += 3
                return false
            }
            if starts(with: "#}", at: position) {
                position += 2
                return trimBlockNewline()
            }
            if source[position] == "\n" { line += 1 }
            position += 1
        }
        throw TemplateError(.syntax, "a comment opened here is never closed with #}", line: startLine)
    }

    /// After `-%}`, `-}}` or `-#}`: every white space character; returns whether the last was a newline.
    private mutating func skipWhitespaceAfterTag() -> Bool {
        var last: Unicode.Scalar?
        while position < source.count, Self.isSpace(source[position]) {
            last = source[position]
            if last == "\n" { line += 1 }
            position += 1
        }
        return last == "\n"
    }

    /// trim_blocks: after `%}` or `#}`, one newline.
    private mutating func trimBlockNewline() -> Bool {
        guard position < source.count, source[position] == "\n" else { return false }
        position += 1
        line += 1
        return true
    }

    /// The lexemes of one `{{ ... }}` or `{% ... %}`; returns whether the closing lexeme ended in a newline.
    private mutating func lexTag(closer: Unicode.Scalar) throws(TemplateError) -> Bool {
        let startLine = line
        let isBlock = closer == "%"
        let end = isBlock ? "%}" : "}}"
        // Brackets opened inside the tag: `}}` closes the tag only when none is open.
        var open: [Unicode.Scalar] = []
        while position < source.count {
            let scalar = source[position]
            if Self.isSpace(scalar) {
                if scalar == "\n" { line += 1 }
                position += 1
                continue
            }
            if open.isEmpty {
                if scalar == "-", starts(with: "-" + end, at: position) {
                    position += 3
                    emit(isBlock ? .blockEnd : .variableEnd, line: line)
                    return skipWhitespaceAfterTag()
                }
                if isBlock, scalar == "+", starts(with: "+%}", at: position) {
                    position += 3
                    emit(.blockEnd, line: line)
                    return false
                }
                if starts(with: end, at: position) {
                    position += 2
                    emit(isBlock ? .blockEnd : .variableEnd, line: line)
                    return isBlock ? trimBlockNewline() : false
                }
            }
            if scalar == "'" || scalar == "\"" {
                emit(.string(try lexString(quote: scalar)), line: line)
            } else if scalar.properties.numericType != nil, ("0"..."9").contains(scalar) {
                emit(lexNumber(), line: line)
            } else if scalar == "_" || scalar.properties.isAlphabetic {
                var name = ""
                while position < source.count, source[position] == "_" || source[position].properties.isAlphabetic
                    || ("0"..."9").contains(source[position]) {
                    name.unicodeScalars.append(source[position])
                    position += 1
                }
                emit(.name(name), line: line)
            } else if let symbol = Self.symbols.first(where: { starts(with: $0, at: position) }) {
                position += 2
                emit(.symbol(symbol), line: line)
            } else if Self.singleSymbols.contains(scalar) {
                position += 1
                switch scalar {
                case "(", "[", "{": open.append(scalar)
                case ")", "]", "}":
                    let expected: Unicode.Scalar = scalar == ")" ? "(" : scalar == "]" ? "[" : "{"
                    guard open.last == expected else { throw TemplateError(.syntax, "unexpected '\(scalar)'", line: line) }
                    open.removeLast()
                default: break
                }
                emit(.symbol(String(scalar)), line: line)
            } else {
                throw TemplateError(.syntax, "unexpected character '\(scalar)'", line: line)
            }
        }
        throw TemplateError(.syntax, "a tag opened here is never closed with \(end)", line: startLine)
    }

    /// A quoted string with Python's escapes (\n, \t, \\, \', \", \xhh, \uXXXX, \UXXXXXXXX, octal);
    /// an unknown escape keeps its backslash, as Python's unicode-escape does.
    private mutating func lexString(quote: Unicode.Scalar) throws(TemplateError) -> String {
        let startLine = line
        position += 1
        var text = String.UnicodeScalarView()
        while position < source.count {
            let scalar = source[position]
            position += 1
            if scalar == quote { return String(text) }
            if scalar == "\n" { line += 1 }
            guard scalar == "\\", position < source.count else {
                text.append(scalar)
                continue
            }
            let escape = source[position]
            position += 1
            switch escape {
            case "n": text.append("\n")
            case "t": text.append("\t")
            case "r": text.append("\r")
            case "\\", "'", "\"": text.append(escape)
            case "a": text.append("\u{07}")
            case "b": text.append("\u{08}")
            case "f": text.append("\u{0C}")
            case "v": text.append("\u{0B}")
            case "\n": line += 1  // a backslash at the end of a line joins the lines
            case "x", "u", "U":
                let digits = escape == "x" ? 2 : escape == "u" ? 4 : 8
                guard position + digits <= source.count,
                      let value = UInt32(String(String.UnicodeScalarView(source[position..<position + digits])), radix: 16),
                      let decoded = Unicode.Scalar(value) else {
                    throw TemplateError(.syntax, "a \\\(escape) escape needs \(digits) hexadecimal digits", line: line)
                }
                position += digits
                text.append(decoded)
            case "0"..."7":
                var value = escape.value - 0x30
                var count = 1
                while count < 3, position < source.count, ("0"..."7").contains(source[position]) {
                    value = value * 8 + source[position].value - 0x30
                    position += 1
                    count += 1
                }
                text.append(Unicode.Scalar(value)!)
            default:
                text.append("\\")
                text.append(escape)
            }
        }
        throw TemplateError(.syntax, "a string opened here is never closed", line: startLine)
    }

    /// An integer or a float (`12`, `1_000`, `1.5`, `2e3`, `1.5e-3`).
    private mutating func lexNumber() -> Lexeme.Kind {
        var text = ""
        func digits() {
            while position < source.count, ("0"..."9").contains(source[position]) || source[position] == "_" {
                if source[position] != "_" { text.unicodeScalars.append(source[position]) }
                position += 1
            }
        }
        digits()
        var isFloat = false
        if position + 1 < source.count, source[position] == ".", ("0"..."9").contains(source[position + 1]) {
            isFloat = true
            text += "."
            position += 1
            digits()
        }
        if position < source.count, source[position] == "e" || source[position] == "E" {
            var lookahead = position + 1
            if lookahead < source.count, source[lookahead] == "+" || source[lookahead] == "-" { lookahead += 1 }
            if lookahead < source.count, ("0"..."9").contains(source[lookahead]) {
                isFloat = true
                text += "e" + (source[position + 1] == "-" ? "-" : "")
                position = lookahead
                digits()
            }
        }
        if isFloat { return .float(Double(text) ?? 0) }
        return Int(text).map { .integer($0) } ?? .float(Double(text) ?? 0)
    }
}
