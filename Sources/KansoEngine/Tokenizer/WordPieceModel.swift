// WordPiece (`tokenizer.ggml.model = bert`), following llama.cpp's llm_tokenizer_wpm_session:
// the text is lowercased with accents stripped, split at whitespace, and punctuation, ASCII
// symbols and CJK ideographs become words of their own; each word, written with a leading
// U+2581 (how GGUF spells a word start), is cut greedily into the longest tokens from the left.
// A word that cannot be cut completely becomes the unknown token.

@_spi(_Unicode) import Swift
import KansoGGUF
import Glibc

struct WordPieceModel: Sendable {
    private let tokenTexts: ByteStringTable
    private let unknown: Int32?
    /// The longest token text, in bytes: the most a greedy match can take.
    private let longestToken: Int

    init(tokenTexts: ByteStringTable, unknown: Int32?) {
        self.tokenTexts = tokenTexts
        self.unknown = unknown
        longestToken = (0 ..< tokenTexts.count).map { tokenTexts.length(of: Int32($0)) }.max() ?? 0
    }

    func encode(_ text: UnsafeBufferPointer<UInt8>, into output: inout [Int32]) {
        for word in Self.words(of: UTF8Scalars(text)) {
            let spelled: [UInt8] = [0xE2, 0x96, 0x81] + word
            let wordStart = output.count
            var position = 0
            spelled.withUnsafeBufferPointer { buffer in
                while position < buffer.count {
                    var length = min(buffer.count - position, longestToken)
                    var found: Int32?
                    while length > 0 {
                        if let id = tokenTexts.find(UnsafeBufferPointer(rebasing: buffer[position ..< position + length])) {
                            found = id
                            break
                        }
                        length -= 1
                    }
                    guard let found else {
                        output.removeSubrange(wordStart...)
                        return
                    }
                    output.append(found)
                    position += length
                }
            }
            if output.count == wordStart, let unknown { output.append(unknown) }
        }
    }

    /// The normalized words of a text, as UTF-8 (llama.cpp's preprocess with lowercase and
    /// strip_accents on, BERT's defaults).
    static func words(of text: UTF8Scalars) -> [[UInt8]] {
        var words: [[UInt8]] = [[]]
        for (index, original) in text.scalars.enumerated() {
            let value = baseCharacter(original)
            let kind = value == original ? text.classes[index] : CodepointClass.of(value)
            if kind.contains(.whitespace) {
                if !words[words.count - 1].isEmpty { words.append([]) }
                continue
            }
            if value == 0 || value == 0xFFFD || kind.contains(.control) || kind.contains(.mark) { continue }
            let utf8 = Array(String(Character(Unicode.Scalar(lowercased(value))!)).utf8)
            if kind.contains(.punctuation) || (value < 0x7F && kind.contains(.symbol)) || isChineseCharacter(value) {
                if !words[words.count - 1].isEmpty { words.append([]) }
                words[words.count - 1] = utf8
                words.append([])
            } else {
                words[words.count - 1].append(contentsOf: utf8)
            }
        }
        if words[words.count - 1].isEmpty { words.removeLast() }
        return words
    }

    /// The first scalar of the canonical decomposition (NFD): "Ä" -> "A". The standard library's
    /// own normalizer (the one its String comparison uses) is reached through its `_Unicode` SPI:
    /// Foundation's decomposedStringWithCanonicalMapping would link Foundation into the daemon.
    private static func baseCharacter(_ value: UInt32) -> UInt32 {
        guard value >= 0xC0, let scalar = Unicode.Scalar(value) else { return value }
        return String(Character(scalar))._nfd.first(where: { _ in true })?.value ?? value
    }

    /// The first scalar of the lowercase mapping.
    private static func lowercased(_ value: UInt32) -> UInt32 {
        if value < 0x80 { return value >= 0x41 && value <= 0x5A ? value + 0x20 : value }
        guard let scalar = Unicode.Scalar(value) else { return value }
        return scalar.properties.lowercaseMapping.unicodeScalars.first?.value ?? value
    }

    private static func isChineseCharacter(_ value: UInt32) -> Bool {
        (0x4E00 ... 0x9FFF).contains(value) || (0x3400 ... 0x4DBF).contains(value)
            || (0x20000 ... 0x2A6DF).contains(value) || (0x2A700 ... 0x2B73F).contains(value)
            || (0x2B740 ... 0x2B81F).contains(value) || (0x2B920 ... 0x2CEAF).contains(value)
            || (0xF900 ... 0xFAFF).contains(value) || (0x2F800 ... 0x2FA1F).contains(value)
    }
}
