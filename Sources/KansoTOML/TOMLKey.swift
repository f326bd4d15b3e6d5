/// A possibly dotted key as written (`site."google.com".name` has three parts), with where it started.
struct TOMLKey: Sendable, Equatable {
    var parts: [String]
    var position: TOMLSourcePosition

    /// The key for messages: parts joined by dots, quoted where a bare key could not express them.
    var description: String { Self.describe(parts) }

    static func describe<Parts: Collection<String>>(_ parts: Parts) -> String {
        parts.map(describePart).joined(separator: ".")
    }

    private static func describePart(_ part: String) -> String {
        let isBare = !part.isEmpty && part.unicodeScalars.allSatisfy { TOMLScanner.isBareKeyCharacter($0) }
        if isBare { return part }
        // Literal form when possible, since messages wrap keys in double quotes: key "'a b'.c".
        let fitsLiteral = part.unicodeScalars.allSatisfy { $0 != "'" && $0 != "\n" && !TOMLScanner.isForbiddenControl($0) }
        if fitsLiteral { return "'" + part + "'" }
        var quoted = "\""
        for scalar in part.unicodeScalars {
            switch scalar {
            case "\"": quoted += "\\\""
            case "\\": quoted += "\\\\"
            default:
                if TOMLScanner.isForbiddenControl(scalar) || scalar == "\n" {
                    quoted += "\\u" + TOMLScanner.unicodeName(scalar.value).dropFirst(2)
                } else {
                    quoted.unicodeScalars.append(scalar)
                }
            }
        }
        return quoted + "\""
    }
}

extension TOMLScanner {
    /// key = simple-key *( ws "." ws simple-key ); whitespace after the key is consumed too.
    mutating func scanKey() throws(TOMLParseError) -> TOMLKey {
        let start = position
        var parts = [try scanSimpleKey()]
        while true {
            skipWhitespace()
            guard current == "." else { break }
            advance()
            skipWhitespace()
            parts.append(try scanSimpleKey())
        }
        return TOMLKey(parts: parts, position: start)
    }

    /// A bare key, or a single-line basic or literal string.
    private mutating func scanSimpleKey() throws(TOMLParseError) -> String {
        switch current {
        case "\"", "'":
            if isLooking(at: "\"\"\"") || isLooking(at: "'''") {
                throw error("a multi-line string cannot be used as a key")
            }
            return try scanString()
        case let scalar where Self.isBareKeyCharacter(scalar):
            var key = String.UnicodeScalarView()
            while let scalar = current, Self.isBareKeyCharacter(scalar) {
                key.append(scalar)
                advance()
            }
            return String(key)
        default:
            throw error("expected a key, found \(Self.describe(current))")
        }
    }
}
