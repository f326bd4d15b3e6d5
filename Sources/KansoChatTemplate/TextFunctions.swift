/// Python's string operations that templates use (str.strip, str.split, str.replace,
/// str.capitalize, str.title), on code points as Python counts them.
enum TextFunctions {
    /// Python's str.isspace for one code point.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace || (0x1C...0x1F).contains(scalar.value)
    }

    /// str.strip / lstrip / rstrip: white space, or any of `characters` when given.
    static func strip(_ text: String, characters: String?, leading: Bool, trailing: Bool) -> String {
        let set = characters.map { Set($0.unicodeScalars) }
        func strips(_ scalar: Unicode.Scalar) -> Bool { set.map { $0.contains(scalar) } ?? isSpace(scalar) }
        var scalars = Array(text.unicodeScalars)[...]
        if leading { while let first = scalars.first, strips(first) { scalars.removeFirst() } }
        if trailing { while let last = scalars.last, strips(last) { scalars.removeLast() } }
        return String(String.UnicodeScalarView(scalars))
    }

    /// str.split: by `separator` keeping empty parts, or (nil) by runs of white space dropping them;
    /// at most `limit` splits when it is not negative.
    static func split(_ text: String, separator: String?, limit: Int) -> [String] {
        let scalars = Array(text.unicodeScalars)
        var parts: [String] = []
        func part(_ range: Range<Int>) -> String { String(String.UnicodeScalarView(scalars[range])) }
        guard let separator else {
            var index = 0
            while index < scalars.count {
                while index < scalars.count, isSpace(scalars[index]) { index += 1 }
                guard index < scalars.count else { break }
                if limit >= 0, parts.count == limit {
                    var end = scalars.count
                    while end > index, isSpace(scalars[end - 1]) { end -= 1 }
                    parts.append(part(index..<end))
                    break
                }
                let start = index
                while index < scalars.count, !isSpace(scalars[index]) { index += 1 }
                parts.append(part(start..<index))
            }
            return parts
        }
        let needle = Array(separator.unicodeScalars)
        var start = 0
        var index = 0
        while index + needle.count <= scalars.count, limit < 0 || parts.count < limit {
            if scalars[index..<index + needle.count].elementsEqual(needle) {
                parts.append(part(start..<index))
                index += needle.count
                start = index
            } else {
                index += 1
            }
        }
        parts.append(part(start..<scalars.count))
        return parts
    }

    /// str.replace, all occurrences or the first `limit`.
    static func replace(_ text: String, _ old: String, _ new: String, limit: Int?) -> String {
        guard !old.isEmpty else { return text }
        let pieces = split(text, separator: old, limit: limit.map { $0 < 0 ? -1 : $0 } ?? -1)
        return pieces.joined(separator: new)
    }

    /// str.capitalize: the first character upper case, the rest lower.
    static func capitalize(_ text: String) -> String {
        guard let first = text.first else { return text }
        return first.uppercased() + text.dropFirst().lowercased()
    }

    /// str.title: each run of letters starts upper case, the rest lower.
    static func title(_ text: String) -> String {
        var result = ""
        var previousIsLetter = false
        for character in text {
            result += previousIsLetter ? character.lowercased() : character.uppercased()
            previousIsLetter = character.isLetter
        }
        return result
    }

    /// The int and float filters: a number from a number or its text, else the fallback (0).
    static func number(_ value: TemplateValue, integer: Bool, fallback: TemplateValue?, line: Int) throws(TemplateError) -> TemplateValue {
        let otherwise = fallback ?? (integer ? .int(0) : .double(0))
        switch value {
        case .int(let number): return integer ? .int(number) : .double(Double(number))
        case .bool(let flag): return integer ? .int(flag ? 1 : 0) : .double(flag ? 1 : 0)
        case .double(let number):
            guard integer else { return .double(number) }
            return number.isFinite && abs(number) < 9e18 ? .int(Int(number)) : otherwise
        case .string(let text):
            let trimmed = strip(text, characters: nil, leading: true, trailing: true)
            if integer, let number = Int(trimmed) { return .int(number) }
            if let number = Double(trimmed) {
                return integer ? (number.isFinite && abs(number) < 9e18 ? .int(Int(number)) : otherwise) : .double(number)
            }
            return otherwise
        default: return otherwise
        }
    }
}
