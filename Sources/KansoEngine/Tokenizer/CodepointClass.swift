// Unicode classes the pre-tokenizers test (\p{L}, \p{N}, \p{M}, \s, ...), from Swift's own
// Unicode tables. Follows llama.cpp's unicode flags (scripts/gen-unicode-data.py): one bit per
// major general category, plus White_Space; every assigned or unassigned scalar has a category.

struct CodepointClass: OptionSet, Sendable {
    let rawValue: UInt16

    static let number = CodepointClass(rawValue: 1 << 0)       // \p{N}: Nd Nl No
    static let letter = CodepointClass(rawValue: 1 << 1)       // \p{L}: Lu Ll Lt Lm Lo
    static let separator = CodepointClass(rawValue: 1 << 2)    // \p{Z}: Zs Zl Zp
    static let mark = CodepointClass(rawValue: 1 << 3)         // \p{M}: Mn Mc Me
    static let punctuation = CodepointClass(rawValue: 1 << 4)  // \p{P}
    static let symbol = CodepointClass(rawValue: 1 << 5)       // \p{S}
    static let control = CodepointClass(rawValue: 1 << 6)      // \p{C}: Cc Cf Cs Co Cn
    static let whitespace = CodepointClass(rawValue: 1 << 7)   // \s: the White_Space property

    /// Neither whitespace, letter nor number: what `[^\s\p{L}\p{N}]` matches.
    var isOther: Bool { !contains(.whitespace) && !contains(.letter) && !contains(.number) }

    private static let ascii: [CodepointClass] = (0 ..< 128).map { classify(UInt32($0)) }

    /// The class of one scalar value (a value that is not a scalar counts as control).
    static func of(_ value: UInt32) -> CodepointClass {
        if value < 128 { return ascii[Int(value)] }
        return classify(value)
    }

    private static func classify(_ value: UInt32) -> CodepointClass {
        guard let scalar = Unicode.Scalar(value) else { return .control }
        let properties = scalar.properties
        var result: CodepointClass
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            result = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            result = .number
        case .nonspacingMark, .spacingMark, .enclosingMark:
            result = .mark
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
             .initialPunctuation, .finalPunctuation, .otherPunctuation:
            result = .punctuation
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol:
            result = .symbol
        case .spaceSeparator, .lineSeparator, .paragraphSeparator:
            result = .separator
        case .control, .format, .surrogate, .privateUse, .unassigned:
            result = .control
        @unknown default:
            result = .control
        }
        if properties.isWhitespace { result.insert(.whitespace) }
        return result
    }
}
