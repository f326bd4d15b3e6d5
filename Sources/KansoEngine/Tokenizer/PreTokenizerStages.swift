// Pre-tokenizers that llama.cpp runs as a list of regexes through std::regex (deepseek-coder,
// falcon, and the "default" of files that name none): each regex splits every piece the
// previous ones left, its matches and the text between them becoming pieces. Matches are found
// left to right, as std::regex_iterator does. Character classes follow llama.cpp's "collapsed"
// text, where a non-ASCII character stands for its category (src/unicode.cpp).

/// The text as llama.cpp's regexes see it: scalars with their classes.
struct CollapsedText {
    let scalars: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<CodepointClass>

    /// A maximal run of characters satisfying `belongs`, optionally after one whitespace.
    func run(from position: Int, to end: Int, optionalLeadingSpace: Bool, _ belongs: (Int) -> Bool) -> Int? {
        var first = position
        if optionalLeadingSpace, classes[position].contains(.whitespace), position + 1 < end, belongs(position + 1) {
            first = position + 1
        }
        guard belongs(first) else { return nil }
        var index = first + 1
        while index < end, belongs(index) { index += 1 }
        return index
    }

    func isLetter(_ index: Int) -> Bool { classes[index].contains(.letter) }
    func isNumber(_ index: Int) -> Bool { classes[index].contains(.number) }
    func isPunctuation(_ index: Int) -> Bool { classes[index].contains(.punctuation) }
    func isASCIIDigit(_ index: Int) -> Bool { scalars[index] >= 0x30 && scalars[index] <= 0x39 }
    func isLineBreak(_ index: Int) -> Bool { scalars[index] == 0x0A || scalars[index] == 0x0D }

    /// \p{P}, or one of the ASCII symbols listed with it in a class (`$+<=>^~|`, and "`" when asked).
    func isPunctuationOrSymbol(_ index: Int, backtick: Bool) -> Bool {
        switch scalars[index] {
        case 0x24, 0x2B, 0x3C, 0x3D, 0x3E, 0x5E, 0x7E, 0x7C: return true  // $ + < = > ^ ~ |
        case 0x60: return backtick
        default: return isPunctuation(index)
        }
    }

    /// `[0-9][0-9][0-9]`
    func digitTriple(from position: Int, to end: Int) -> Int? {
        position + 3 <= end && isASCIIDigit(position) && isASCIIDigit(position + 1) && isASCIIDigit(position + 2)
            ? position + 3 : nil
    }
}

/// Pieces of a text, refined stage by stage.
struct PieceSplitter {
    let text: CollapsedText
    /// End of each piece, in order (pieces are back to back from 0).
    private(set) var ends: [Int]

    init(_ text: CollapsedText) {
        self.text = text
        ends = text.scalars.isEmpty ? [] : [text.scalars.count]
    }

    /// Splits every piece around the matches of `match`, which gets a position and the piece's
    /// end and returns where a match starting there ends (nil: no match starts there).
    mutating func isolate(_ match: (Int, Int) -> Int?) {
        var result: [Int] = []
        result.reserveCapacity(ends.count * 2)
        var start = 0
        for end in ends {
            var gapStart = start
            var position = start
            while position < end {
                if let matchEnd = match(position, end), matchEnd > position {
                    if gapStart < position { result.append(position) }
                    result.append(matchEnd)
                    position = matchEnd
                    gapStart = matchEnd
                } else {
                    position += 1
                }
            }
            if gapStart < end { result.append(end) }
            start = end
        }
        ends = result
    }

    /// Splits every piece with the GPT-2 rules.
    mutating func splitGPT2() {
        var result: [Int] = []
        var start = 0
        for end in ends {
            var scanner = WordScanner(scalars: text.scalars, classes: text.classes, range: start ..< end)
            scanner.splitGPT2(into: &result)
            start = end
        }
        ends = result
    }
}

extension PreTokenizer {
    /// deepseek-coder: `[\r\n]`, `\s?\p{L}+`, `\s?\p{P}+`, `[一-龥ࠀ-一가-퟿]+`, `\p{N}`.
    static func splitDeepSeekCoder(_ pieces: inout PieceSplitter) {
        let text = pieces.text
        pieces.isolate { position, _ in text.isLineBreak(position) ? position + 1 : nil }
        pieces.isolate { text.run(from: $0, to: $1, optionalLeadingSpace: true, text.isLetter) }
        pieces.isolate { text.run(from: $0, to: $1, optionalLeadingSpace: true, text.isPunctuation) }
        pieces.isolate { position, end in
            text.run(from: position, to: end, optionalLeadingSpace: false) { index in
                // CJK ideographs, U+0800...U+4E00 and Hangul; whitespace (U+3000) is not matched.
                let value = text.scalars[index]
                let inRange = (0x4E00 ... 0x9FA5).contains(value) || (0x0800 ... 0x4E00).contains(value)
                    || (0xAC00 ... 0xD7FF).contains(value)
                return inRange && !text.classes[index].contains(.whitespace)
            }
        }
        pieces.isolate { position, _ in text.isNumber(position) ? position + 1 : nil }
    }

    /// falcon: ``[\p{P}\$\+<=>\^~\|`]+``, the GPT-2 rules, `[0-9][0-9][0-9]`.
    static func splitFalcon(_ pieces: inout PieceSplitter) {
        let text = pieces.text
        pieces.isolate { text.run(from: $0, to: $1, optionalLeadingSpace: false) { text.isPunctuationOrSymbol($0, backtick: true) } }
        pieces.splitGPT2()
        pieces.isolate(text.digitTriple)
    }

    /// The default for files that name no pre-tokenizer: `[\p{P}\$\+<=>\^~\|]+`, the GPT-2
    /// rules, `\p{N}+`, `[0-9][0-9][0-9]`.
    static func splitDefault(_ pieces: inout PieceSplitter) {
        let text = pieces.text
        pieces.isolate { text.run(from: $0, to: $1, optionalLeadingSpace: false) { text.isPunctuationOrSymbol($0, backtick: false) } }
        pieces.splitGPT2()
        pieces.isolate { text.run(from: $0, to: $1, optionalLeadingSpace: false, text.isNumber) }
        pieces.isolate(text.digitTriple)
    }
}
