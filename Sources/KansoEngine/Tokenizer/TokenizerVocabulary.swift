// The plain description a tokenizer is built from: token texts, scores, types, merges and the
// special ids, as GGUF stores them under `tokenizer.ggml.*` but with no dependency on GGUF, so
// tests build small vocabularies by hand. `Tokenizer(vocabulary:)` validates it.
import KansoGGUF

/// What a token is, numbered as GGUF's `tokenizer.ggml.token_type` (llama.cpp `llama_token_type`).
public enum TokenType: Int32, Sendable, CaseIterable {
    case undefined = 0
    case normal = 1
    case unknown = 2
    case control = 3
    case userDefined = 4
    case unused = 5
    /// A raw byte, written `<0xNN>` (SentencePiece byte fallback).
    case byte = 6
}

/// The tokenization algorithm, from `tokenizer.ggml.model`.
public enum TokenizerModelKind: String, Sendable {
    /// `llama`: SentencePiece BPE over scores with byte fallback; spaces written as U+2581.
    case sentencePiece = "llama"
    /// `gpt2`: byte-level BPE over ranked merges, after a regex-style pre-tokenizer.
    case bytePair = "gpt2"
    /// `bert`: WordPiece, longest match first.
    case wordPiece = "bert"
    /// `gemma4`: BPE over ranked merges on UTF-8 characters, spaces written as U+2581, byte
    /// fallback to `<0xNN>` tokens; words are split only at line breaks.
    case gemma4 = "gemma4"
}

public struct TokenizerVocabulary: Sendable {
    public var model: TokenizerModelKind
    /// `tokenizer.ggml.pre` (byte-level BPE only): names the pre-tokenizer; "" means "default".
    public var preTokenizer: String
    /// Token texts, indexed by id.
    public var tokens: [String]
    /// Merge priority per token (SentencePiece); empty means all zero.
    public var scores: [Float]
    /// Per-token types; empty means every token is `.normal`.
    public var tokenTypes: [TokenType]
    /// Byte-level BPE merges, "left right", highest priority first (decoded one at a time when the
    /// merge table is built; a load that reads the cached table never decodes them).
    public var merges: GGUFStrings

    public var bos: Int32?
    public var eos: Int32?
    /// End of turn (`<|eot_id|>`, `<|im_end|>`); found by text when not given.
    public var eot: Int32?
    /// End of message (`<|eom_id|>`); found by text when not given.
    public var eom: Int32?
    public var unknown: Int32?
    public var separator: Int32?
    public var padding: Int32?
    /// Further ids that end generation (fill-in-the-middle pad, repo and file separators).
    public var additionalEndOfGeneration: [Int32]

    /// nil: the model's default (true for SentencePiece, WordPiece and the llama3 pre-tokenizer).
    public var addBOS: Bool?
    /// nil: false.
    public var addEOS: Bool?
    /// nil: the model's default (true for SentencePiece): a space is put before the text.
    public var addSpacePrefix: Bool?

    /// Special tokens that swallow the whitespace after them when split out of text.
    public var rightStrippedTokens: Set<Int32>
    /// Special tokens that swallow the whitespace before them when split out of text.
    public var leftStrippedTokens: Set<Int32>

    public init(
        model: TokenizerModelKind,
        preTokenizer: String = "",
        tokens: [String],
        scores: [Float] = [],
        tokenTypes: [TokenType] = [],
        merges: [String] = [],
        bos: Int32? = nil,
        eos: Int32? = nil,
        eot: Int32? = nil,
        eom: Int32? = nil,
        unknown: Int32? = nil,
        separator: Int32? = nil,
        padding: Int32? = nil,
        additionalEndOfGeneration: [Int32] = [],
        addBOS: Bool? = nil,
        addEOS: Bool? = nil,
        addSpacePrefix: Bool? = nil,
        rightStrippedTokens: Set<Int32> = [],
        leftStrippedTokens: Set<Int32> = []
    ) {
        self.model = model
        self.preTokenizer = preTokenizer
        self.tokens = tokens
        self.scores = scores
        self.tokenTypes = tokenTypes
        self.merges = GGUFStrings(merges)
        self.bos = bos
        self.eos = eos
        self.eot = eot
        self.eom = eom
        self.unknown = unknown
        self.separator = separator
        self.padding = padding
        self.additionalEndOfGeneration = additionalEndOfGeneration
        self.addBOS = addBOS
        self.addEOS = addEOS
        self.addSpacePrefix = addSpacePrefix
        self.rightStrippedTokens = rightStrippedTokens
        self.leftStrippedTokens = leftStrippedTokens
    }

    /// Checks lengths and ids; `Tokenizer(vocabulary:)` calls it.
    public func validate() throws {
        let count = tokens.count
        guard count > 0 else { throw TokenizerError.emptyVocabulary }
        guard count < Int(Int32.max) else {
            throw TokenizerError.tokenOutOfRange(name: "vocabulary size", id: count, vocabularySize: Int(Int32.max))
        }
        if !scores.isEmpty, scores.count < count {
            throw TokenizerError.lengthMismatch(field: "scores", expected: count, actual: scores.count)
        }
        if !tokenTypes.isEmpty, tokenTypes.count < count {
            throw TokenizerError.lengthMismatch(field: "token types", expected: count, actual: tokenTypes.count)
        }
        let named: [(String, Int32?)] = [
            ("bos", bos), ("eos", eos), ("eot", eot), ("eom", eom),
            ("unknown", unknown), ("separator", separator), ("padding", padding),
        ]
        for (name, id) in named {
            if let id, id < 0 || Int(id) >= count {
                throw TokenizerError.tokenOutOfRange(name: name, id: Int(id), vocabularySize: count)
            }
        }
        for id in additionalEndOfGeneration + Array(rightStrippedTokens) + Array(leftStrippedTokens)
        where id < 0 || Int(id) >= count {
            throw TokenizerError.tokenOutOfRange(name: "special", id: Int(id), vocabularySize: count)
        }
    }
}
