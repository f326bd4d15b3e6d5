// Reading a tokenizer from a GGUF file's `tokenizer.ggml.*` metadata into a TokenizerVocabulary
// (keys as llama.cpp's convert scripts write them and src/llama-vocab.cpp reads them).

import KansoConcurrency
import KansoGGUF
import Dispatch
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

extension TokenizerVocabulary {
    public init(gguf metadata: GGUFMetadata) throws {
        guard let modelName = metadata.string("tokenizer.ggml.model") else {
            throw TokenizerError.missingKey("tokenizer.ggml.model")
        }
        guard let model = TokenizerModelKind(rawValue: modelName) else {
            throw TokenizerError.unsupportedModel(modelName)
        }
        guard metadata["tokenizer.ggml.tokens"] != nil else { throw TokenizerError.missingKey("tokenizer.ggml.tokens") }
        guard let tokens = metadata.strings("tokenizer.ggml.tokens") else {
            throw TokenizerError.wrongType(key: "tokenizer.ggml.tokens", expected: "an array of strings")
        }
        var scores: [Float] = []
        if metadata["tokenizer.ggml.scores"] != nil {
            guard let values = metadata.floats("tokenizer.ggml.scores") else {
                throw TokenizerError.wrongType(key: "tokenizer.ggml.scores", expected: "an array of numbers")
            }
            scores = values
        }
        var types: [TokenType] = []
        if metadata["tokenizer.ggml.token_type"] != nil {
            guard let values = metadata.ints("tokenizer.ggml.token_type") else {
                throw TokenizerError.wrongType(key: "tokenizer.ggml.token_type", expected: "an array of integers")
            }
            types.reserveCapacity(values.count)
            for (id, value) in values.enumerated() {
                guard let type = TokenType(rawValue: Int32(clamping: value)) else {
                    throw TokenizerError.invalidTokenType(id: id, value: value)
                }
                types.append(type)
            }
        }
        var merges: GGUFStrings = []
        if model == .bytePair || model == .gemma4 {
            guard metadata["tokenizer.ggml.merges"] != nil else { throw TokenizerError.missingKey("tokenizer.ggml.merges") }
            guard let values = metadata.stringArray("tokenizer.ggml.merges") else {
                throw TokenizerError.wrongType(key: "tokenizer.ggml.merges", expected: "an array of strings")
            }
            merges = values
        }

        // Ids outside the vocabulary are ignored, as llama.cpp does ("bad special token").
        func id(_ key: String) -> Int32? {
            guard let value = metadata.int("tokenizer.ggml." + key), value >= 0, value < tokens.count else { return nil }
            return Int32(value)
        }
        func flag(_ key: String) -> Bool? { metadata.bool("tokenizer.ggml." + key) }

        let name = (metadata.string("general.name") ?? "").lowercased()
        var rightStripped = Set<Int32>()
        if name.contains("phi-3") || name.contains("phi3") {
            // llama.cpp: Phi-3's special tokens swallow the whitespace after them, except these.
            let keep: Set<String> = ["<unk>", "<s>", "<|endoftext|>"]
            for (index, token) in tokens.enumerated() where !keep.contains(token) {
                let type = index < types.count ? types[index] : .normal
                if type == .control || type == .userDefined || type == .unknown || token == "</s>" {
                    rightStripped.insert(Int32(index))
                }
            }
        }

        self.init(
            model: model,
            preTokenizer: model == .gemma4 ? "gemma4" : metadata.string("tokenizer.ggml.pre") ?? "",
            tokens: tokens,
            scores: scores,
            tokenTypes: types,
            bos: id("bos_token_id") ?? (model == .wordPiece ? id("cls_token_id") : nil),
            eos: id("eos_token_id"),
            eot: id("eot_token_id"),
            eom: id("eom_token_id"),
            unknown: id("unknown_token_id"),
            separator: id("seperator_token_id") ?? id("separator_token_id"),
            padding: id("padding_token_id"),
            additionalEndOfGeneration: ["fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id"].compactMap(id),
            addBOS: flag("add_bos_token"),
            addEOS: flag("add_eos_token"),
            addSpacePrefix: flag("add_space_prefix"),
            rightStrippedTokens: rightStripped)
        self.merges = merges  // as the file has them: decoded only if the merge table is built
    }
}

extension Tokenizer {
    /// The tokenizer of a GGUF model (or vocabulary-only) file.
    public convenience init(gguf: GGUFFile) throws {
        try self.init(vocabulary: TokenizerVocabulary(gguf: gguf.metadata))
    }

    /// The tokenizer of `gguf`, with its tables read from `cache` when an earlier load wrote them
    /// for this unchanged file; otherwise built, and written there on a background thread
    /// (`writing` is left when that is done). `origin` says where the tables came from.
    static func load(gguf: GGUFFile, cache: PackedWeightCache?, writing: DispatchGroup,
                     origin: Locked<TokenizerTablesOrigin>) throws -> Tokenizer {
        let vocabulary = try TokenizerVocabulary(gguf: gguf.metadata)
        guard let cache else {
            origin.set(.built)
            return try Tokenizer(vocabulary: vocabulary)
        }
        let path = cache.filePath(forModelAt: gguf.path, kind: "ktok")
        if let tables = TokenizerCacheFile.read(path: path, source: gguf.identity) {
            let tokenizer = try Tokenizer(vocabulary: vocabulary, tables: tables)
            // A part that failed its checks was built anew (then the file is replaced); the parts
            // taken share the read arrays' storage, so this compares no bytes.
            if tokenizer.tables == tables {
                origin.set(.cacheRead(path: path))
                return tokenizer
            }
        }
        let tokenizer = try Tokenizer(vocabulary: vocabulary)
        let identity = gguf.identity
        origin.set(.cacheWriting(path: path))
        DispatchQueue.global(qos: .utility).async(group: writing) {
            do {
                try TokenizerCacheFile.write(tokenizer.tables, path: path, source: identity, in: cache)
                origin.set(.cacheWritten(path: path))
            } catch let error as PackedCacheError {
                origin.set(.cacheFailed(error))
            } catch {
                origin.set(.cacheFailed(PackedCacheError(path: path, operation: "write", errno: EIO)))
            }
        }
        return tokenizer
    }
}
