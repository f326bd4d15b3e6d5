// Reading `tokenizer.ggml.*` metadata: defaults, the keys that set BOS/EOS behaviour, and the
// typed errors for missing or mistyped keys, on metadata built in memory.

@testable import KansoEngine
@testable import KansoGGUF
import Testing

private func metadata(_ entries: [(String, GGUFValue)]) -> GGUFMetadata {
    GGUFMetadata(keys: entries.map(\.0), values: Dictionary(uniqueKeysWithValues: entries))
}

/// A SentencePiece vocabulary: <unk> <s> </s>, the two byte tokens for "é", "▁" and "a".
private let sentencePieceEntries: [(String, GGUFValue)] = [
    ("tokenizer.ggml.model", .string("llama")),
    ("tokenizer.ggml.tokens", .array(.string(["<unk>", "<s>", "</s>", "<0xC3>", "<0xA9>", "▁", "a"]))),
    ("tokenizer.ggml.scores", .array(.float32([0, 0, 0, 0, 0, -1, -2]))),
    ("tokenizer.ggml.token_type", .array(.int32([2, 3, 3, 6, 6, 1, 1]))),
]

struct TokenizerMetadataTests {
    @Test func sentencePieceDefaults() throws {
        let tokenizer = try Tokenizer(vocabulary: TokenizerVocabulary(gguf: metadata(sentencePieceEntries)))
        #expect(tokenizer.model == .sentencePiece)
        #expect(tokenizer.bos == 1 && tokenizer.eos == 2)
        #expect(tokenizer.addsBOS && !tokenizer.addsEOS && tokenizer.addsSpacePrefix)
        #expect(tokenizer.encode("aé", addSpecial: true, parseSpecial: false) == [1, 5, 6, 3, 4])
        #expect(tokenizer.isEndOfGeneration(2))
        #expect(tokenizer.isControl(1) && !tokenizer.isControl(6))
        #expect(tokenizer.tokenType(3) == .byte)
    }

    @Test func keysOverrideDefaults() throws {
        let entries = sentencePieceEntries + [
            ("tokenizer.ggml.add_bos_token", .bool(false)),
            ("tokenizer.ggml.add_eos_token", .bool(true)),
            ("tokenizer.ggml.add_space_prefix", .bool(false)),
            ("tokenizer.ggml.eos_token_id", .uint32(1)),
            ("tokenizer.ggml.bos_token_id", .uint32(99)),  // out of range: ignored, default kept
        ]
        let tokenizer = try Tokenizer(vocabulary: TokenizerVocabulary(gguf: metadata(entries)))
        #expect(!tokenizer.addsBOS && tokenizer.addsEOS && !tokenizer.addsSpacePrefix)
        #expect(tokenizer.bos == 1 && tokenizer.eos == 1)
        #expect(tokenizer.encode("a", addSpecial: true, parseSpecial: false) == [6, 1])
    }

    @Test func rejectsMissingAndMistypedKeys() {
        #expect(throws: TokenizerError.missingKey("tokenizer.ggml.model")) {
            try TokenizerVocabulary(gguf: metadata(Array(sentencePieceEntries.dropFirst())))
        }
        #expect(throws: TokenizerError.unsupportedModel("t5")) {
            try TokenizerVocabulary(gguf: metadata([("tokenizer.ggml.model", .string("t5"))] + sentencePieceEntries.dropFirst()))
        }
        #expect(throws: TokenizerError.wrongType(key: "tokenizer.ggml.tokens", expected: "an array of strings")) {
            try TokenizerVocabulary(gguf: metadata([
                ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .array(.int32([1, 2]))),
            ]))
        }
        #expect(throws: TokenizerError.invalidTokenType(id: 1, value: 9)) {
            try TokenizerVocabulary(gguf: metadata([
                ("tokenizer.ggml.model", .string("llama")), ("tokenizer.ggml.tokens", .array(.string(["a", "b"]))),
                ("tokenizer.ggml.token_type", .array(.int32([1, 9]))),
            ]))
        }
        #expect(throws: TokenizerError.missingKey("tokenizer.ggml.merges")) {
            try TokenizerVocabulary(gguf: metadata([
                ("tokenizer.ggml.model", .string("gpt2")), ("tokenizer.ggml.pre", .string("qwen2")),
                ("tokenizer.ggml.tokens", .array(.string(["a", "b"]))),
            ]))
        }
        #expect(throws: TokenizerError.lengthMismatch(field: "token types", expected: 7, actual: 2)) {
            try Tokenizer(vocabulary: TokenizerVocabulary(gguf: metadata(
                Array(sentencePieceEntries.prefix(3)) + [("tokenizer.ggml.token_type", .array(.int32([1, 1])))])))
        }
    }

    @Test func errorsNameTheOffendingValue() {
        #expect(TokenizerError.unsupportedPreTokenizer("jais-2").description.contains("jais-2"))
        #expect(TokenizerError.tokenOutOfRange(name: "bos", id: 7, vocabularySize: 5).description.contains("7"))
        #expect(TokenizerError.duplicateToken(text: "ab", firstID: 1, secondID: 4).description.contains("'ab'"))
    }
}
