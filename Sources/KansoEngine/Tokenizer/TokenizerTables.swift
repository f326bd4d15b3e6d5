// What building a tokenizer computes from its vocabulary and is slow to compute again: the
// interned token texts, each token's decoded bytes and, for BPE, the symbols and the merge table
// keyed by symbol ids (for Llama 3's 128k tokens and 280k merges, ~14 MiB and a noticeable part
// of a load: bench/README.md). The packed-weight
// cache folder keeps them between loads (TokenizerCacheFile.swift); Tokenizer(vocabulary:tables:)
// takes each part back once it has checked it.

struct TokenizerTables: Equatable {
    var tokenTexts: ByteStringTable.Parts
    var pieces: TokenPieces.Parts
    var bytePair: BytePairModel.Tables?
}

/// Where a loaded model's tokenizer tables came from (Model.tokenizerTables).
public enum TokenizerTablesOrigin: Equatable, Sendable, CustomStringConvertible {
    /// Built from the vocabulary; no cache was asked for.
    case built
    /// Read from the cache file that an earlier load wrote.
    case cacheRead(path: String)
    /// Built from the vocabulary; the cache file is being written in the background.
    case cacheWriting(path: String)
    /// Built from the vocabulary and written to the cache for the next load.
    case cacheWritten(path: String)
    /// Built from the vocabulary; the cache file could not be written.
    case cacheFailed(PackedCacheError)

    /// Whether the cache file is being written in the background (Model.waitForPackedCache waits for it).
    public var isBeingWritten: Bool {
        if case .cacheWriting = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .built: return "built at load"
        case .cacheRead(let path): return "read from \(path)"
        case .cacheWriting(let path): return "built at load, writing \(path)"
        case .cacheWritten(let path): return "built at load, written to \(path)"
        case .cacheFailed(let error): return "built at load; \(error)"
        }
    }
}
