// The tokenizer-tables cache (TokenizerCacheFile.swift, TokenizerTables.swift): tables written
// and read back are the same arrays, and a tokenizer over them encodes as one built from the
// vocabulary; a file of another source, damaged or cut short is not read; tables that pass the
// checksum but break a table's invariants are rebuilt, never used (no lookup may leave its arrays).

import KansoGGUF
import Foundation
@testable import KansoEngine
import KansoTestSupport
import Testing

@Suite struct TokenizerCacheFileTests {
    static let identity = FileIdentity(device: 7, inode: 1234, size: 99, modified: 1_700_000_000_000_000_000)

    /// Byte-level BPE over the 256 byte characters; "a b" is a merge whose result is no token
    /// (so the symbols outgrow the vocabulary), plus a control token.
    static func bytePairVocabulary() -> TokenizerVocabulary {
        let bytes = ByteLevelMapping.scalarForByte.map { String(Character(Unicode.Scalar($0)!)) }
        let tokens = bytes + ["bc", "Ġb", "Ġbc", "<|end|>"]
        let types = Array(repeating: TokenType.normal, count: tokens.count - 1) + [.control]
        return TokenizerVocabulary(model: .bytePair, preTokenizer: "gpt-2", tokens: tokens, tokenTypes: types,
                                   merges: ["b c", "Ġ b", "Ġb c", "a b"])
    }

    static func sentencePieceVocabulary() -> TokenizerVocabulary {
        let digits = Array("0123456789ABCDEF")
        let bytes = (0 ..< 256).map { "<0x" + String([digits[$0 >> 4], digits[$0 & 15]]) + ">" }
        let tokens = ["<unk>", "<s>", "</s>"] + bytes + ["▁a", "▁ab", "b", "c"]
        let types: [TokenType] = [.unknown, .control, .control] + Array(repeating: .byte, count: 256) + Array(repeating: .normal, count: 4)
        return TokenizerVocabulary(model: .sentencePiece, tokens: tokens, scores: Array(repeating: 0, count: 259) + [1, 2, 0, 0],
                                   tokenTypes: types)
    }

    static let texts = ["abc", " abc bc", "x\n\té ab 🦙", "<|end|> ab", ""]

    static func folder() throws -> (cache: PackedWeightCache, path: String, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-tokenizer-cache-\(UUID().uuidString)")
        let cache = PackedWeightCache(directory: folder.path)
        return (cache, cache.filePath(forModelAt: folder.appendingPathComponent("model.gguf").path, kind: "ktok"), folder)
    }

    static func encodings(_ tokenizer: Tokenizer) -> [[Int32]] {
        texts.map { tokenizer.encode($0, addSpecial: true, parseSpecial: true) }
    }

    @Test(arguments: ["bpe", "spm"])
    func tablesRoundTripAndEncodeTheSame(_ kind: String) throws {
        let vocabulary = kind == "bpe" ? Self.bytePairVocabulary() : Self.sentencePieceVocabulary()
        let built = try Tokenizer(vocabulary: vocabulary)
        if kind == "bpe" {
            let symbols = try #require(built.tables.bytePair?.symbols)
            #expect(symbols.offsets.count - 1 > vocabulary.tokens.count, "the merge result that is no token is a symbol of its own")
        } else {
            #expect(built.tables.bytePair == nil)
        }
        let (cache, path, folder) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TokenizerCacheFile.write(built.tables, path: path, source: Self.identity, in: cache)
        let read = try #require(TokenizerCacheFile.read(path: path, source: Self.identity))
        #expect(read == built.tables)
        let reused = try Tokenizer(vocabulary: vocabulary, tables: read)
        #expect(reused.tables == read)
        #expect(Self.encodings(reused) == Self.encodings(built))
        for ids in Self.encodings(built) { #expect(reused.decode(ids) == built.decode(ids)) }
    }

    /// Where to damage a written file: a header field, inside the sections, the last byte, or cut.
    enum Damage: CustomStringConvertible, Sendable {
        case flipByte(at: Int)
        case truncate(by: Int)
        case empty

        var description: String {
            switch self {
            case .flipByte(let offset): return "byte \(offset) flipped"
            case .truncate(let bytes): return "\(bytes) bytes cut off"
            case .empty: return "empty"
            }
        }
    }

    @Test(arguments: [Damage.flipByte(at: 0), .flipByte(at: 8), .flipByte(at: 20), .flipByte(at: 60), .flipByte(at: 200),
                      .flipByte(at: 512), .flipByte(at: 3000), .flipByte(at: -1), .truncate(by: 8), .truncate(by: 4000), .empty])
    func aDamagedFileIsNotRead(_ damage: Damage) throws {
        let built = try Tokenizer(vocabulary: Self.bytePairVocabulary())
        let (cache, path, folder) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TokenizerCacheFile.write(built.tables, path: path, source: Self.identity, in: cache)
        let size = try #require(try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        switch damage {
        case .flipByte(let at):
            let offset = UInt64(at >= 0 ? at : size + at)
            try handle.seek(toOffset: offset)
            let byte = try #require(try handle.read(upToCount: 1)).first!
            try handle.seek(toOffset: offset)
            handle.write(Data([byte ^ 0x10]))
        case .truncate(let bytes): try handle.truncate(atOffset: UInt64(size - bytes))
        case .empty: try handle.truncate(atOffset: 0)
        }
        try handle.close()
        #expect(TokenizerCacheFile.read(path: path, source: Self.identity) == nil, "a file \(damage) must not be read")
    }

    @Test func aFileOfAnotherSourceIsNotRead() throws {
        let built = try Tokenizer(vocabulary: Self.bytePairVocabulary())
        let (cache, path, folder) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TokenizerCacheFile.write(built.tables, path: path, source: Self.identity, in: cache)
        let changed = FileIdentity(device: Self.identity.device, inode: Self.identity.inode, size: Self.identity.size,
                                   modified: Self.identity.modified + 1)
        #expect(TokenizerCacheFile.read(path: path, source: changed) == nil)
        #expect(TokenizerCacheFile.read(path: folder.appendingPathComponent("absent.ktok").path, source: Self.identity) == nil)
    }

    /// Tables an honest checksum covers but whose contents break an invariant.
    enum Breakage: String, CaseIterable, Sendable {
        case slotOutOfRange, slotTwice, offsetsFalling, storageShort, tooFewSlots
        case mergeResultOutOfRange, mergeTableFull, symbolsNotStartingWithTheTokens
        case piecesFalling, piecesOfAnotherCount
    }

    @Test(arguments: Breakage.allCases)
    func inconsistentTablesAreRebuiltNotUsed(_ breakage: Breakage) throws {
        let vocabulary = Self.bytePairVocabulary()
        let built = try Tokenizer(vocabulary: vocabulary)
        var tables = built.tables
        var symbols = try #require(tables.bytePair?.symbols)
        var merges = try #require(tables.bytePair?.merges)
        let used = try #require(tables.tokenTexts.slots.firstIndex { $0 != UInt64.max })
        switch breakage {
        case .slotOutOfRange: tables.tokenTexts.slots[used] = tables.tokenTexts.slots[used] | 0xFFFF
        case .slotTwice:
            let other = try #require(tables.tokenTexts.slots.indices.last { tables.tokenTexts.slots[$0] != UInt64.max })
            tables.tokenTexts.slots[other] = tables.tokenTexts.slots[used]
        case .offsetsFalling: tables.tokenTexts.offsets[5] = tables.tokenTexts.offsets[7]
        case .storageShort: tables.tokenTexts.storage.removeLast()
        case .tooFewSlots: tables.tokenTexts.slots = Array(tables.tokenTexts.slots.prefix(tables.tokenTexts.slots.count / 4))
        case .mergeResultOutOfRange:
            let slot = try #require(merges.keys.firstIndex { $0 != UInt64.max })
            merges.values[slot] = merges.values[slot] | 0x7FFF_FFFF
        case .mergeTableFull:
            merges.keys = merges.keys.map { $0 == UInt64.max ? 1 << 32 | 2 : $0 }
        case .symbolsNotStartingWithTheTokens: symbols.storage[3] ^= 1
        case .piecesFalling: tables.pieces.offsets[5] = tables.pieces.offsets[7]
        case .piecesOfAnotherCount: tables.pieces.offsets.removeLast(); tables.pieces.storage.removeAll()
        }
        tables.bytePair = .init(symbols: symbols, merges: merges)
        let (cache, path, folder) = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TokenizerCacheFile.write(tables, path: path, source: Self.identity, in: cache)
        let read = try #require(TokenizerCacheFile.read(path: path, source: Self.identity), "the checksum is honest")
        let tokenizer = try Tokenizer(vocabulary: vocabulary, tables: read)
        #expect(tokenizer.tables != read, "the broken part is built anew")
        #expect(tokenizer.tables == built.tables)
        #expect(Self.encodings(tokenizer) == Self.encodings(built))
    }

    @Test func aModelLoadWritesTheTablesAndTheNextReadsThem() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-tokenizer-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.gguf").path
        try FileManager.default.copyItem(atPath: FidelityFixtures.modelPath("qwen2-q8_0"), toPath: path)
        let cache = PackedWeightCache(directory: folder.appendingPathComponent("cache").path)
        let tablesPath = cache.filePath(forModelAt: path, kind: "ktok")
        let first = try Model(path: path, threads: 1, packedCache: cache)
        #expect(first.tokenizerTables == .cacheWriting(path: tablesPath) || first.tokenizerTables == .cacheWritten(path: tablesPath))
        first.waitForPackedCache()
        #expect(first.tokenizerTables == .cacheWritten(path: tablesPath))
        let second = try Model(path: path, threads: 1, packedCache: cache)
        #expect(second.tokenizerTables == .cacheRead(path: tablesPath))
        #expect(second.tokenizer.tables == first.tokenizer.tables)
        let text = "Hello, world! 123 ünïcode"
        #expect(second.tokenizer.encode(text) == first.tokenizer.encode(text))
        #expect(try Model(path: path, threads: 1).tokenizerTables == .built, "no cache asked for, none used")
    }
}

/// The real vocabularies of ../shared/vocab through the cache: each reference case encodes to
/// its ids with a tokenizer over tables read back from a file.
@Suite(.enabled(if: SharedData.vocabDirectory != nil, "\(SharedData.missingMessage("vocab"))"))
struct TokenizerCacheFileVocabTests {
    @Test(arguments: VocabFixture.names)
    func readTablesGiveTheReferenceTokens(_ name: String) throws {
        let fixture = try VocabFixture.load(name)
        let url = try #require(VocabFixture.file(name))
        let vocabulary = try TokenizerVocabulary(gguf: GGUFFile(path: url.path).metadata)
        let (cache, path, folder) = try TokenizerCacheFileTests.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        try TokenizerCacheFile.write(fixture.tokenizer.tables, path: path, source: TokenizerCacheFileTests.identity, in: cache)
        let read = try #require(TokenizerCacheFile.read(path: path, source: TokenizerCacheFileTests.identity))
        let tokenizer = try Tokenizer(vocabulary: vocabulary, tables: read)
        #expect(tokenizer.tables == read, "every part of \(name)'s tables is used as read")
        for (text, expected) in fixture.cases {
            #expect(tokenizer.encode(text, addSpecial: false, parseSpecial: false) == expected, "\(name): \(text.debugDescription)")
        }
    }
}
