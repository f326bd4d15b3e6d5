// Hand-written scanners for the pre-tokenizer regexes. Each tries the regex's alternatives in
// order at the current position, as a backtracking regex engine would (leftmost alternative
// wins), and emits the end of the match. Follows llama.cpp's unicode_regex_split_custom_gpt2
// and _llama3 (src/unicode.cpp); the qwen variants reproduce what llama.cpp's std::regex
// fallback matches for their patterns. Positions past the piece's end read as "no character",
// so `\s+(?!\S)` sees the end of a piece as the end of the text.

struct WordScanner {
    let scalars: UnsafeBufferPointer<UInt32>
    let classes: UnsafeBufferPointer<CodepointClass>
    let start: Int
    let end: Int

    init(scalars: UnsafeBufferPointer<UInt32>, classes: UnsafeBufferPointer<CodepointClass>, range: Range<Int>) {
        self.scalars = scalars
        self.classes = classes
        self.start = range.lowerBound
        self.end = range.upperBound
    }

    private static let outOfRange = UInt32.max

    @inline(__always) private func scalar(_ position: Int) -> UInt32 {
        position >= start && position < end ? scalars[position] : Self.outOfRange
    }

    /// The class at `position`, or the empty class outside the piece.
    @inline(__always) private func kind(_ position: Int) -> CodepointClass {
        position >= start && position < end ? classes[position] : []
    }

    @inline(__always) private static func isLineBreak(_ scalar: UInt32) -> Bool {
        scalar == 0x0D || scalar == 0x0A
    }

    @inline(__always) private static func lowercasedASCII(_ scalar: UInt32) -> UInt32 {
        scalar >= 0x41 && scalar <= 0x5A ? scalar + 0x20 : scalar
    }

    /// Length of an English contraction ('s 't 're 've 'm 'll 'd) at `position`, or 0.
    private func contractionLength(at position: Int, ignoringCase: Bool) -> Int {
        guard scalar(position) == 0x27, position + 1 < end else { return 0 }
        let fold: (UInt32) -> UInt32 = ignoringCase ? Self.lowercasedASCII : { $0 }
        let next = fold(scalar(position + 1))
        if next == 0x73 || next == 0x74 || next == 0x6D || next == 0x64 { return 2 }  // s t m d
        guard position + 2 < end else { return 0 }
        let after = fold(scalar(position + 2))
        if (next == 0x72 && after == 0x65) || (next == 0x76 && after == 0x65) || (next == 0x6C && after == 0x6C) {
            return 3  // re ve ll
        }
        return 0
    }

    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    mutating func splitGPT2(into ends: inout [Int]) {
        var position = start
        while position < end {
            let current = scalar(position)
            let contraction = contractionLength(at: position, ignoringCase: false)
            if contraction > 0 {
                position += contraction
                ends.append(position)
                continue
            }
            // An optional leading space, then a run of one class.
            let leadingSpace = current == 0x20
            let first = leadingSpace ? kind(position + 1) : kind(position)
            if first.contains(.letter) || first.contains(.number) || (first.isOther && !first.isEmpty) {
                let matches: (CodepointClass) -> Bool
                if first.contains(.letter) {
                    matches = { $0.contains(.letter) }
                } else if first.contains(.number) {
                    matches = { $0.contains(.number) }
                } else {
                    matches = { $0.isOther && !$0.isEmpty }
                }
                position += leadingSpace ? 2 : 1
                while matches(kind(position)) { position += 1 }
                ends.append(position)
                continue
            }
            position = whitespaceEnd(from: position, lineBreaksFirst: false)
            ends.append(position)
        }
    }

    /// Llama 3 and its variants:
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?W+|\p{N}{1,k}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    /// where W is \p{L} (or [\p{L}\p{M}] when `marksInWords`, which also keeps marks out of the
    /// punctuation run) and k is `digitGroup`.
    mutating func splitLlama3(digitGroup: Int, marksInWords: Bool, into ends: inout [Int]) {
        let wordClass: CodepointClass = marksInWords ? [.letter, .mark] : [.letter]
        let isWord: (CodepointClass) -> Bool = { !$0.isDisjoint(with: wordClass) }
        let isPunctuationRun: (CodepointClass) -> Bool = { kind in
            !kind.isEmpty && kind.isOther && !(marksInWords && kind.contains(.mark))
        }
        var position = start
        while position < end {
            let current = scalar(position)
            let currentKind = kind(position)
            let contraction = contractionLength(at: position, ignoringCase: true)
            if contraction > 0 {
                position += contraction
                ends.append(position)
                continue
            }
            // [^\r\n\p{L}\p{N}]?W+ : a word, or one non-word character glued to a following word.
            if !Self.isLineBreak(current), !currentKind.contains(.number),
               isWord(currentKind) || isWord(kind(position + 1)) {
                position += 1
                while isWord(kind(position)) { position += 1 }
                ends.append(position)
                continue
            }
            // \p{N}{1,k}
            if currentKind.contains(.number) {
                var groupStart = position
                while kind(position).contains(.number) {
                    position += 1
                    if position - groupStart >= digitGroup {
                        ends.append(position)
                        groupStart = position
                    }
                }
                if position > groupStart { ends.append(position) }
                continue
            }
            // ` ?[^\s\p{L}\p{N}]+[\r\n]*`
            let leadingSpace = current == 0x20
            if isPunctuationRun(leadingSpace ? kind(position + 1) : currentKind) {
                position += leadingSpace ? 2 : 1
                while isPunctuationRun(kind(position)) { position += 1 }
                while Self.isLineBreak(scalar(position)) { position += 1 }
                ends.append(position)
                continue
            }
            position = whitespaceEnd(from: position, lineBreaksFirst: true)
            ends.append(position)
        }
    }

    /// The whitespace alternatives at `position`: `\s*[\r\n]+` (when `lineBreaksFirst`: up to the
    /// run's last line break), else `\s+(?!\S)` (the run minus its last character when something
    /// follows), else `\s+`; a character no alternative matches stands alone.
    private func whitespaceEnd(from position: Int, lineBreaksFirst: Bool) -> Int {
        var count = 0
        var lastLineBreakEnd = -1
        while kind(position + count).contains(.whitespace) {
            if Self.isLineBreak(scalar(position + count)) { lastLineBreakEnd = position + count + 1 }
            count += 1
        }
        if lineBreaksFirst, lastLineBreakEnd > 0 { return lastLineBreakEnd }
        if count > 1, position + count < end { return position + count - 1 }
        if count > 0 { return position + count }
        return position + 1
    }
}
