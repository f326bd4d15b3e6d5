// The tokenizer core on small hand-made vocabularies: SentencePiece merges by score and byte
// fallback, byte-level BPE merges by rank, special-token splitting, and the checks that reject
// a bad vocabulary with a typed error.

@testable import KansoEngine
import Testing

/// "<0xNN>" for every byte, in byte order.
private let byteTokenTexts = (0 ..< 256).map { "<0x" + String(format2: $0) + ">" }

private extension String {
    init(format2 value: Int) {
        let digits = Array("0123456789ABCDEF")
        self = String([digits[value >> 4], digits[value & 15]])
    }
}

/// SentencePiece vocabulary: <unk> <s> </s>, 256 byte tokens, then pieces with scores.
private func sentencePieceVocabulary(_ pieces: [(String, Float)]) -> TokenizerVocabulary {
    let tokens = ["<unk>", "<s>", "</s>"] + byteTokenTexts + pieces.map(\.0)
    let scores: [Float] = [0, 0, 0] + Array(repeating: 0, count: 256) + pieces.map(\.1)
    let types: [TokenType] = [.unknown, .control, .control] + Array(repeating: .byte, count: 256)
        + Array(repeating: .normal, count: pieces.count)
    return TokenizerVocabulary(model: .sentencePiece, tokens: tokens, scores: scores, tokenTypes: types)
}

/// Byte-level BPE vocabulary: the 256 byte characters, then the merge results, then extras.
private func bytePairVocabulary(merges: [String], extra: [String] = [], extraTypes: [TokenType] = [],
                                preTokenizer: String = "gpt-2") -> TokenizerVocabulary {
    let byteCharacters = ByteLevelMapping.scalarForByte.map { String(Character(Unicode.Scalar($0)!)) }
    let merged = merges.map { $0.replacingOccurrences(of: " ", with: "") }
    let tokens = byteCharacters + merged + extra
    let types = Array(repeating: TokenType.normal, count: byteCharacters.count + merged.count)
        + (extraTypes.isEmpty ? Array(repeating: .normal, count: extra.count) : extraTypes)
    return TokenizerVocabulary(model: .bytePair, preTokenizer: preTokenizer, tokens: tokens, tokenTypes: types, merges: merges)
}

private extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: Character(target), omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

struct TokenizerCoreTests {
    @Test func sentencePieceMergesHighestScoreFirst() throws {
        // "▁ab" can form as ▁a+b or ▁+ab; "ab" scores higher than "▁a", so ▁+ab wins... unless
        // "▁ab" exists, which is then reached either way.
        let vocabulary = sentencePieceVocabulary([("▁", -1), ("a", -1), ("b", -1), ("▁a", -3), ("ab", -2), ("c", -1)])
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        let id = { (text: String) in tokenizer.tokenID(spelled: text)! }
        #expect(tokenizer.encode("ab", addSpecial: false, parseSpecial: false) == [id("▁"), id("ab")])
        #expect(tokenizer.encode("ab", addSpecial: true, parseSpecial: false) == [1, id("▁"), id("ab")])
        #expect(tokenizer.encode("abc", addSpecial: false, parseSpecial: false) == [id("▁"), id("ab"), id("c")])
        #expect(tokenizer.decode(tokenizer.encode("ab c", addSpecial: false, parseSpecial: false)) == "ab c")
    }

    @Test func sentencePieceMergesAcrossWordsWhenTheVocabularyAllowsIt() throws {
        // "a▁b" spans a word start, so words cannot be merged one by one here.
        let tokenizer = try Tokenizer(vocabulary: sentencePieceVocabulary(
            [("▁", -1), ("a", -1), ("b", -1), ("a▁", -0.5), ("a▁b", -0.1)]))
        let id = { (text: String) in tokenizer.tokenID(spelled: text)! }
        #expect(tokenizer.encode("a b", addSpecial: false, parseSpecial: false) == [id("▁"), id("a▁b")])
        #expect(tokenizer.decode(tokenizer.encode("a b", addSpecial: false, parseSpecial: false)) == "a b")
    }

    @Test func sentencePieceFallsBackToBytes() throws {
        let tokenizer = try Tokenizer(vocabulary: sentencePieceVocabulary([("▁", -1), ("a", -1)]))
        // "é" is C3 A9 and no piece: two byte tokens (ids 3 + byte).
        let tokens = tokenizer.encode("aé", addSpecial: false, parseSpecial: false)
        let space = try #require(tokenizer.tokenID(spelled: "▁"))
        let letter = try #require(tokenizer.tokenID(spelled: "a"))
        let expected: [Int32] = [space, letter, 3 + 0xC3, 3 + 0xA9]
        #expect(tokens == expected)
        #expect(tokenizer.pieceBytes(3 + 0xC3) == [0xC3])
        #expect(tokenizer.decode(tokens) == "aé")
    }

    @Test func bytePairMergesLowestRankFirst() throws {
        // Ranks: "b c" before "a b", so "abc" becomes a + bc, not ab + c.
        let vocabulary = bytePairVocabulary(merges: ["b c", "a b", "Ġ a"])
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        let id = { (text: String) in tokenizer.tokenID(spelled: text)! }
        #expect(tokenizer.encode("abc", addSpecial: false, parseSpecial: false) == [id("a"), id("bc")])
        #expect(tokenizer.encode("ab", addSpecial: false, parseSpecial: false) == [id("ab")])
        // The pre-tokenizer keeps a space with its word: " ab" is one word, where "a b" (rank 1)
        // beats "Ġ a" (rank 2); " a" merges to Ġa.
        #expect(tokenizer.encode(" ab", addSpecial: false, parseSpecial: false) == [id("Ġ"), id("ab")])
        #expect(tokenizer.encode(" a", addSpecial: false, parseSpecial: false) == [id("Ġa")])
        #expect(tokenizer.pieceBytes(id("Ġa")) == Array(" a".utf8))
        let text = "x\n\té ab 🦙"
        #expect(tokenizer.decode(tokenizer.encode(text, addSpecial: false, parseSpecial: false)) == text)
    }

    @Test func bytePairMergeWithoutTokenFallsBack() throws {
        // "a b" merges to "ab", which is not in this vocabulary: its bytes are emitted instead.
        var vocabulary = bytePairVocabulary(merges: [])
        vocabulary.merges = ["a b"]
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        #expect(tokenizer.encode("ab", addSpecial: false, parseSpecial: false)
            == [tokenizer.tokenID(spelled: "a")!, tokenizer.tokenID(spelled: "b")!])
    }

    @Test func gemma4MergesCharactersWithEscapedSpaces() throws {
        let pieces = ["▁", "a", "b", "▁a", "ab", "\n", "\n\n"]
        let vocabulary = TokenizerVocabulary(
            model: .gemma4, preTokenizer: "gemma4",
            tokens: ["<pad>", "<eos>", "<bos>", "<unk>"] + byteTokenTexts + pieces,
            tokenTypes: [.control, .control, .control, .unknown] + Array(repeating: .byte, count: 256)
                + Array(repeating: .normal, count: pieces.count),
            merges: ["▁ a", "a b"], bos: 2, eos: 1, addBOS: false)
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        let id = { (text: String) in tokenizer.tokenID(spelled: text)! }
        #expect(tokenizer.addsBOS && !tokenizer.addsSpacePrefix)
        // "a ab" -> a ▁ a b: "▁ a" (rank 0) merges first, after which no pair has a merge.
        #expect(tokenizer.encode("a ab", addSpecial: true, parseSpecial: false) == [2, id("a"), id("▁a"), id("b")])
        // A run of line breaks that is a token is taken whole; one that is not, character by character.
        #expect(tokenizer.encode("\n\n", addSpecial: false, parseSpecial: false) == [id("\n\n")])
        #expect(tokenizer.encode("\n\n\n", addSpecial: false, parseSpecial: false) == [id("\n"), id("\n"), id("\n")])
        // Unknown characters fall back to <0xNN> byte tokens (ids 4 + byte).
        let expected: [Int32] = [id("a"), 4 + 0xC3, 4 + 0xA7]
        #expect(tokenizer.encode("aç", addSpecial: false, parseSpecial: false) == expected)
        let text = "ab a\n\nç é"
        #expect(tokenizer.decode(tokenizer.encode(text, addSpecial: false, parseSpecial: false)) == text)
    }

    @Test func specialTokensSplitWhenParsedAndUserDefinedAlways() throws {
        let vocabulary = bytePairVocabulary(
            merges: [], extra: ["<|end|>", "<tool>"], extraTypes: [.control, .userDefined])
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        let end = tokenizer.tokenID(spelled: "<|end|>")!
        let tool = tokenizer.tokenID(spelled: "<tool>")!
        let plain = tokenizer.encode("a<|end|><tool>", addSpecial: false, parseSpecial: false)
        #expect(!plain.contains(end))
        #expect(plain.last == tool)
        let parsed = tokenizer.encode("a<|end|><tool>", addSpecial: false, parseSpecial: true)
        #expect(parsed == [tokenizer.tokenID(spelled: "a")!, end, tool])
        #expect(tokenizer.isEndOfGeneration(end) && tokenizer.isControl(end))
        #expect(tokenizer.eot == end)
        #expect(!tokenizer.isControl(tool))
    }

    @Test func rightStrippedTokenSwallowsFollowingSpaces() throws {
        var vocabulary = bytePairVocabulary(merges: [], extra: ["<x>"], extraTypes: [.userDefined])
        let marker = Int32(vocabulary.tokens.count - 1)
        vocabulary.rightStrippedTokens = [marker]
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        #expect(tokenizer.encode("<x>  a", addSpecial: false, parseSpecial: false) == [marker, tokenizer.tokenID(spelled: "a")!])
    }

    /// The pieces `preTokenizer` splits `text` into.
    static func words(_ preTokenizer: PreTokenizer, _ text: String) -> [String] {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBufferPointer { buffer in
            let decoded = UTF8Scalars(buffer)
            let ends = decoded.scalars.withUnsafeBufferPointer { scalars in
                decoded.classes.withUnsafeBufferPointer { preTokenizer.split(scalars, classes: $0) }
            }
            var start = 0
            return ends.map { end in
                defer { start = end }
                return String(decoding: bytes[decoded.byteOffsets[start] ..< decoded.byteOffsets[end]], as: UTF8.self)
            }
        }
    }

    @Test func preTokenizerSplits() throws {
        let text = "Hello, y'all!  12345\n\nok"
        func words(_ preTokenizer: PreTokenizer) -> [String] { Self.words(preTokenizer, text) }
        #expect(words(.gpt2) == ["Hello", ",", " y", "'", "all", "!", " ", " 12345", "\n", "\n", "ok"])
        #expect(words(.llama3) == ["Hello", ",", " y", "'all", "!", " ", " ", "123", "45", "\n\n", "ok"])
        #expect(words(.qwen2) == ["Hello", ",", " y", "'all", "!", " ", " ", "1", "2", "3", "4", "5", "\n\n", "ok"])
        #expect(words(.starcoder) == ["Hello", ",", " y", "'", "all", "!", "  ", "1", "2", "3", "4", "5", "\n", "\n", "ok"])
        #expect(words(.lines) == ["Hello, y'all!  12345", "\n\n", "ok"])
    }

    @Test func regexListPreTokenizers() throws {
        func words(_ preTokenizer: PreTokenizer, _ text: String) -> [String] { Self.words(preTokenizer, text) }
        // Symbol runs, then GPT-2 rules, then number runs, then digit triples.
        #expect(words(.defaultRules, "a+b 1234 x") == ["a", "+", "b", " ", "123", "4", " x"])
        #expect(words(.falcon, "a`b 1234") == ["a", "`", "b", " ", "123", "4"])
        #expect(words(.defaultRules, "a`b") == ["a", "`", "b"])  // "`" is split by the GPT-2 rules instead
        #expect(words(.deepSeekCoder, "ab, 12\n한국") == ["ab", ",", " ", "1", "2", "\n", "한국"])
        #expect(try PreTokenizer(name: "") == .defaultRules)
    }

    @Test func contractionsIgnoreCaseOnlyFromLlama3On() throws {
        func words(_ preTokenizer: PreTokenizer, _ text: String) -> Int {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBufferPointer { buffer in
                let decoded = UTF8Scalars(buffer)
                return decoded.scalars.withUnsafeBufferPointer { scalars in
                    decoded.classes.withUnsafeBufferPointer { preTokenizer.split(scalars, classes: $0) }
                }.count
            }
        }
        #expect(words(.llama3, "'RE") == 1)
        #expect(words(.gpt2, "'RE") == 2)
        #expect(words(.gpt2, "'re") == 1)
        // qwen35 keeps combining marks inside words: "a" + U+0300 is one word, qwen2 splits it.
        #expect(words(.qwen35, "xa\u{300}y") == 1)
        #expect(words(.qwen2, "xa\u{300}y") == 2)  // "xa", "\u{300}y"
    }

    @Test func rejectsBadVocabularies() {
        #expect(throws: TokenizerError.emptyVocabulary) {
            try Tokenizer(vocabulary: TokenizerVocabulary(model: .sentencePiece, tokens: []))
        }
        #expect(throws: TokenizerError.duplicateToken(text: "a", firstID: 0, secondID: 1)) {
            try Tokenizer(vocabulary: TokenizerVocabulary(model: .sentencePiece, tokens: ["a", "a"], addBOS: false))
        }
        #expect(throws: TokenizerError.tokenOutOfRange(name: "bos", id: 5, vocabularySize: 2)) {
            try Tokenizer(vocabulary: TokenizerVocabulary(model: .sentencePiece, tokens: ["a", "b"], bos: 5))
        }
        #expect(throws: TokenizerError.unsupportedPreTokenizer("no-such-pre")) {
            try Tokenizer(vocabulary: bytePairVocabulary(merges: [], preTokenizer: "no-such-pre"))
        }
        #expect(throws: TokenizerError.addSpecialWithoutToken(flag: "add_bos_token")) {
            try Tokenizer(vocabulary: TokenizerVocabulary(model: .bytePair, preTokenizer: "gpt-2", tokens: ["a"], addBOS: true))
        }
        #expect(throws: TokenizerError.lengthMismatch(field: "scores", expected: 2, actual: 1)) {
            try Tokenizer(vocabulary: TokenizerVocabulary(model: .sentencePiece, tokens: ["a", "b"], scores: [1]))
        }
    }

    @Test func byteLevelMapIsABijection() {
        let scalars = ByteLevelMapping.scalarForByte
        #expect(Set(scalars).count == 256)
        #expect(scalars[0x20] == 0x120)  // " " is spelled "Ġ"
        #expect(scalars[0x0A] == 0x10A)  // "\n" is spelled "Ċ"
        #expect(scalars[Int(UInt8(ascii: "A"))] == 0x41)
        for byte in 0 ..< 256 {
            #expect(ByteLevelMapping.decode(String(Character(Unicode.Scalar(scalars[byte])!))) == [UInt8(byte)])
        }
    }
}
