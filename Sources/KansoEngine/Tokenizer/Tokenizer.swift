// Text <-> token ids for a model, from its vocabulary: special tokens are split out first, then
// each stretch of text goes through the model's algorithm (SentencePiece, or pre-tokenizer +
// byte-level BPE, or WordPiece). Decoding is exact: every token stands for fixed bytes
// (TokenPieces). Immutable after init, so one instance serves any number of threads.
// Behaviour follows llama.cpp's llama_vocab::impl::tokenize / detokenize.

public final class Tokenizer: @unchecked Sendable {  // immutable after init
    public let model: TokenizerModelKind
    public var vocabularySize: Int { types.count }
    public var bos: Int32? { special.bos }
    public var eos: Int32? { special.eos }
    public var eot: Int32? { special.eot }
    /// Whether `encode(..., addSpecial: true)` puts BOS first.
    public var addsBOS: Bool { special.addBOS }
    /// Whether `encode(..., addSpecial: true)` puts EOS last.
    public var addsEOS: Bool { special.addEOS }
    /// Whether a space is put before the text (and after each special token) before tokenizing.
    public var addsSpacePrefix: Bool { special.addSpacePrefix }

    private let tokenTexts: ByteStringTable
    private let types: [TokenType]
    /// Control, user-defined and unknown tokens: after them `encode` restarts the space prefix.
    private let isSpecialToken: [Bool]
    private let special: SpecialTokens
    private let splitter: SpecialTokenSplitter
    private let pieces: TokenPieces
    private let sentencePiece: SentencePieceModel?
    private let bytePair: BytePairModel?
    private let preTokenizer: PreTokenizer?
    private let wordPiece: WordPieceModel?

    public convenience init(vocabulary: TokenizerVocabulary) throws {
        try self.init(vocabulary: vocabulary, tables: nil)
    }

    /// `tables`: what an earlier build of this same vocabulary made (TokenizerCacheFile.swift);
    /// each part that is consistent is used as it is, the others are built.
    init(vocabulary: TokenizerVocabulary, tables: TokenizerTables?) throws {
        try vocabulary.validate()
        let count = vocabulary.tokens.count
        model = vocabulary.model
        let texts: ByteStringTable
        if let cached = tables.flatMap({ ByteStringTable(parts: $0.tokenTexts) }), cached.count == count {
            texts = cached
        } else {
            texts = try Self.tokenTexts(vocabulary.tokens)
        }
        tokenTexts = texts
        let initialTypes = vocabulary.tokenTypes.isEmpty
            ? Array(repeating: .normal, count: count) : Array(vocabulary.tokenTypes.prefix(count))
        special = try SpecialTokens(vocabulary: vocabulary, types: initialTypes) { text in texts.find(Array(text.utf8)) }
        types = special.types
        isSpecialToken = types.map { $0 == .control || $0 == .userDefined || $0 == .unknown }
        splitter = SpecialTokenSplitter(
            tokenTexts: texts, types: types,
            leftStripped: vocabulary.leftStrippedTokens, rightStripped: vocabulary.rightStrippedTokens)
        pieces = tables.flatMap { TokenPieces(parts: $0.pieces, count: count) }
            ?? TokenPieces(model: vocabulary.model, tokenTexts: texts, types: types)
        func bytePairModel(byteLevel: Bool, ignoresMerges: Bool) -> BytePairModel {
            tables?.bytePair.flatMap { BytePairModel(tokenTexts: texts, tables: $0, byteLevel: byteLevel, ignoresMerges: ignoresMerges) }
                ?? BytePairModel(tokenTexts: texts, merges: vocabulary.merges, byteLevel: byteLevel, ignoresMerges: ignoresMerges)
        }
        switch vocabulary.model {
        case .sentencePiece:
            sentencePiece = SentencePieceModel(tokenTexts: texts, scores: vocabulary.scores, unknown: special.unknown)
            bytePair = nil
            preTokenizer = nil
            wordPiece = nil
        case .bytePair:
            preTokenizer = try PreTokenizer(name: vocabulary.preTokenizer)
            bytePair = bytePairModel(byteLevel: true, ignoresMerges: PreTokenizer.ignoresMerges(name: vocabulary.preTokenizer))
            sentencePiece = nil
            wordPiece = nil
        case .gemma4:
            preTokenizer = .lines
            bytePair = bytePairModel(byteLevel: false, ignoresMerges: false)
            sentencePiece = nil
            wordPiece = nil
        case .wordPiece:
            wordPiece = WordPieceModel(tokenTexts: texts, unknown: special.unknown)
            sentencePiece = nil
            bytePair = nil
            preTokenizer = nil
        }
    }

    /// Every token's text, interned in id order; two tokens with one text are an error.
    private static func tokenTexts(_ tokens: [String]) throws -> ByteStringTable {
        var texts = ByteStringTable(expectedCount: tokens.count, expectedBytes: tokens.count * 8)
        for (index, token) in tokens.enumerated() {
            // llama.cpp renames empty tokens so every id has a distinct text.
            var text = token.isEmpty ? "[EMPTY_\(index)]" : token
            let (id, inserted) = text.withUTF8 { texts.insert($0) }
            if !inserted { throw TokenizerError.duplicateToken(text: token, firstID: Int(id), secondID: index) }
        }
        return texts
    }

    /// The tables built from the vocabulary, to be cached (TokenizerCacheFile.swift).
    var tables: TokenizerTables {
        TokenizerTables(tokenTexts: tokenTexts.parts, pieces: pieces.parts, bytePair: bytePair?.tables)
    }

    /// Token ids for `text`. `addSpecial` adds BOS/EOS (and SEP) as the model wants them;
    /// `parseSpecial` turns the text of control tokens ("<|im_start|>") into those tokens.
    /// User-defined tokens are always recognised, as in llama.cpp and Hugging Face tokenizers.
    public func encode(_ text: String, addSpecial: Bool = true, parseSpecial: Bool = false) -> [Int32] {
        encode([TextSegment(text, parseSpecial: parseSpecial)], addSpecial: addSpecial)
    }

    /// Token ids for the segments joined, as `encode` of the joined text would give them except
    /// that control tokens are read only inside segments marked `parseSpecial` (a chat template's
    /// text, never a request's). Text on both sides of a segment boundary is tokenized as one
    /// stretch, so segments that parse nothing tokenize exactly as their joined text. When the
    /// text itself starts with BOS (a template that writes `bos_token`), `addSpecial` adds no
    /// second one.
    public func encode(_ segments: [TextSegment], addSpecial: Bool = true) -> [Int32] {
        var bytes: [UInt8] = []
        var specialRanges: [Range<Int>] = []
        for segment in segments {
            let start = bytes.count
            bytes.append(contentsOf: segment.text.utf8)
            if segment.parseSpecial, bytes.count > start { specialRanges.append(start ..< bytes.count) }
        }
        var output: [Int32] = []
        output.reserveCapacity(bytes.count / 3 + 2)
        bytes.withUnsafeBufferPointer { buffer in
            let fragments = splitter.split(buffer, specialRanges: specialRanges)
            if addSpecial, special.addBOS, let bos = special.bos, fragments.first != .token(bos) { output.append(bos) }
            var previousWasSpecial = true
            var scratch = BytePairModel.Scratch()
            for fragment in fragments {
                switch fragment {
                case let .token(id):
                    output.append(id)
                    previousWasSpecial = true
                case let .text(range):
                    let piece = UnsafeBufferPointer(rebasing: buffer[range])
                    if let sentencePiece {
                        let escaped = Self.escapeSpaces(piece, prefix: special.addSpacePrefix && previousWasSpecial)
                        escaped.withUnsafeBufferPointer { sentencePiece.encode($0, into: &output) }
                    } else if let bytePair, let preTokenizer, model == .gemma4 {
                        let escaped = Self.escapeSpaces(piece, prefix: false)
                        escaped.withUnsafeBufferPointer {
                            encodeBytePair($0, model: bytePair, preTokenizer: preTokenizer, into: &output, scratch: &scratch)
                        }
                    } else if let bytePair, let preTokenizer {
                        encodeBytePair(piece, model: bytePair, preTokenizer: preTokenizer,
                                       into: &output, scratch: &scratch)
                    } else if let wordPiece {
                        wordPiece.encode(piece, into: &output)
                    }
                    previousWasSpecial = false
                }
            }
        }
        if addSpecial, special.addEOS, let eos = special.eos { output.append(eos) }
        if addSpecial, special.addSeparator, let separator = special.separator { output.append(separator) }
        return output
    }

    /// SentencePiece input: an optional leading space, and every space written as U+2581.
    private static func escapeSpaces(_ text: UnsafeBufferPointer<UInt8>, prefix: Bool) -> [UInt8] {
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.count + text.count / 4 + 3)
        if prefix { escaped.append(contentsOf: [0xE2, 0x96, 0x81]) }
        for byte in text {
            if byte == 0x20 {
                escaped.append(contentsOf: [0xE2, 0x96, 0x81])
            } else {
                escaped.append(byte)
            }
        }
        return escaped
    }

    private func encodeBytePair(_ text: UnsafeBufferPointer<UInt8>, model: BytePairModel, preTokenizer: PreTokenizer,
                                into output: inout [Int32], scratch: inout BytePairModel.Scratch) {
        let decoded = UTF8Scalars(text)
        let ends = decoded.scalars.withUnsafeBufferPointer { scalars in
            decoded.classes.withUnsafeBufferPointer { classes in preTokenizer.split(scalars, classes: classes) }
        }
        var wordStart = 0
        for wordEnd in ends {
            let byteRange = decoded.byteOffsets[wordStart] ..< decoded.byteOffsets[wordEnd]
            model.encode(word: UnsafeBufferPointer(rebasing: text[byteRange]), into: &output, scratch: &scratch)
            wordStart = wordEnd
        }
    }

    /// The bytes `token` stands for: text pieces, single bytes of byte tokens, and the text of
    /// control tokens. Join the bytes of consecutive tokens before reading them as UTF-8: one
    /// character may span several tokens. Empty for an id outside the vocabulary.
    public func pieceBytes(_ token: Int32) -> [UInt8] {
        Array(pieces.bytes(of: token))
    }

    /// `pieceBytes` without copying, for scans over the whole vocabulary (grammar masks).
    public func withPieceBytes<Result>(_ token: Int32, _ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        try pieces.bytes(of: token).withUnsafeBufferPointer(body)
    }

    /// The bytes of `tokens`, joined. When the vocabulary adds a space prefix (SentencePiece), one
    /// leading space is dropped from the first token and from the first token after each special
    /// (control, user-defined, unknown) token: the spaces `encode` puts there. So
    /// `decodeBytes(encode(text))` is `text` with the special tokens rendered as their text.
    public func decodeBytes(_ tokens: [Int32]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(tokens.count * 4)
        var dropSpace = special.addSpacePrefix
        for token in tokens {
            var piece = pieces.bytes(of: token)
            let isSpecial = token >= 0 && Int(token) < types.count && isSpecialToken[Int(token)]
            if dropSpace, !isSpecial, piece.first == 0x20 { piece = piece.dropFirst() }
            bytes.append(contentsOf: piece)
            dropSpace = special.addSpacePrefix && isSpecial
        }
        return bytes
    }

    /// The text of `tokens` (see `decodeBytes`); bytes that are not valid UTF-8 become U+FFFD.
    public func decode(_ tokens: [Int32]) -> String {
        String(decoding: decodeBytes(tokens), as: UTF8.self)
    }

    /// The token's text as the vocabulary spells it ("Ġworld", "▁Hello", "<0x0A>").
    public func tokenText(_ token: Int32) -> String? {
        guard token >= 0, Int(token) < types.count else { return nil }
        return String(decoding: tokenTexts.bytes(of: token), as: UTF8.self)
    }

    /// The id of the token spelled exactly `text` in the vocabulary.
    public func tokenID(spelled text: String) -> Int32? {
        tokenTexts.find(Array(text.utf8))
    }

    public func tokenType(_ token: Int32) -> TokenType? {
        guard token >= 0, Int(token) < types.count else { return nil }
        return types[Int(token)]
    }

    /// EOS, EOT, EOM and the other tokens after which a model has finished (`<|im_end|>`, ...).
    public func isEndOfGeneration(_ token: Int32) -> Bool {
        special.endOfGeneration.contains(token)
    }

    public func isControl(_ token: Int32) -> Bool {
        tokenType(token) == .control
    }
}

/// A stretch of a prompt for `Tokenizer.encode(_:addSpecial:)`, and whether the texts of control
/// tokens in it become those tokens (true for a chat template's own text, false for user input).
public struct TextSegment: Sendable, Hashable {
    public var text: String
    public var parseSpecial: Bool

    public init(_ text: String, parseSpecial: Bool) {
        self.text = text
        self.parseSpecial = parseSpecial
    }
}
