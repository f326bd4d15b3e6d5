import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine

/// The packed-weight cache (PackedWeightCache.swift, PackedCacheFile.swift): a first load packs in
/// memory and writes the cache file, a second maps it and computes the same logits bit for bit;
/// a changed model file, a damaged or truncated cache file, or other matrices are never trusted
/// but rebuilt; a cache that cannot be written leaves the model running packed in memory.
@Suite struct ModelPackedCacheTests {
    /// The tests that need matrices packed run only in builds with packed kernels.
    static let packing = Testing.ConditionTrait.enabled(if: WeightMatrix.packedFormsAreBuilt,
                                                        "the kernels loads use here pack no matrix (they do on CPUs with AVX2)")

    /// A copy of a fidelity fixture in a fresh folder (so that touching it harms nothing), and
    /// the cache folder beside it.
    static func setUp(_ fixture: String) throws -> (model: String, cache: PackedWeightCache, folder: URL) {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-packed-cache-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let model = folder.appendingPathComponent("\(fixture).gguf").path
        try FileManager.default.copyItem(atPath: FidelityFixtures.modelPath(fixture), toPath: model)
        return (model, PackedWeightCache(directory: folder.appendingPathComponent("cache/kanso").path), folder)
    }

    static let prompt: [Int32] = [1, 12, 7, 30, 5, 19, 44, 3]

    /// Logits after the prompt and after three greedy steps.
    static func logits(_ model: Model) throws -> [[Float]] {
        let cache = try model.makeCache()
        var rows = try model.evaluate(prompt, in: cache)
        for _ in 0..<3 {
            let next = Int32(rows.last!.indices.max { rows.last![$0] < rows.last![$1] }!)
            rows += try model.evaluate([next], in: cache)
        }
        return rows
    }

    static func requirePacking(_ model: Model) throws {
        try #require(model.packedWeights != .none, "no matrix has a packed form in this build (x86 with AVX2 only)")
    }

    @Test(packing, arguments: ["llama-q8_0", "llama-q4_0", "llama-q4_k_m"])
    func secondLoadMapsTheCacheAndComputesTheSame(_ fixture: String) throws {
        let (path, cache, folder) = try Self.setUp(fixture)
        defer { try? FileManager.default.removeItem(at: folder) }
        let plain = try Self.logits(Model(path: path, threads: 2))
        let first = try Model(path: path, threads: 2, packedCache: cache)
        try Self.requirePacking(first)
        let cachePath = cache.filePath(forModelAt: path)
        #expect(first.packedWeights == .cacheWriting(path: cachePath) || first.packedWeights == .cacheWritten(path: cachePath))
        #expect(first.waitForPackedCache() == .cacheWritten(path: cachePath))
        #expect(FileManager.default.fileExists(atPath: cachePath))
        let firstLogits = try Self.logits(first)
        let second = try Model(path: path, threads: 2, packedCache: cache)
        #expect(second.packedWeights == .cacheReused(path: cachePath))
        #expect(second.waitForPackedCache() == .cacheReused(path: cachePath))
        let secondLogits = try Self.logits(second)
        #expect(secondLogits == firstLogits, "the mapped cache must hold exactly the bytes packed in memory")
        #expect(firstLogits == plain, "packing into the cache must not change what packing in memory computes")
        #expect(second.tokenizerTables == .cacheRead(path: cache.filePath(forModelAt: path, kind: "ktok")))
        // nothing but the two cache files (packed weights, tokenizer tables) is left in the folder
        let names = try FileManager.default.contentsOfDirectory(atPath: cache.directory).sorted()
        #expect(names == [cachePath, cache.filePath(forModelAt: path, kind: "ktok")].map { URL(fileURLWithPath: $0).lastPathComponent })
    }

    @Test(packing) func aChangedModelFileIsPackedAgain() throws {
        let (path, cache, folder) = try Self.setUp("llama-q8_0")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try Model(path: path, threads: 1, packedCache: cache)
        try Self.requirePacking(first)
        first.waitForPackedCache()
        // a new modification time: the same path now names another version of the model
        try FileManager.default.setAttributes([.modificationDate: Date(timeIntervalSinceNow: -3600)], ofItemAtPath: path)
        let second = try Model(path: path, threads: 1, packedCache: cache)
        #expect(second.packedWeights != .cacheReused(path: cache.filePath(forModelAt: path)))
        #expect(second.waitForPackedCache() == .cacheWritten(path: cache.filePath(forModelAt: path)))
        let third = try Model(path: path, threads: 1, packedCache: cache)
        #expect(third.packedWeights == .cacheReused(path: cache.filePath(forModelAt: path)))
    }

    /// Damage at `offset` (from the end when negative), or cut the file to `length` bytes.
    enum Damage: CustomStringConvertible {
        case flipByte(at: Int)
        case truncate(to: Int)
        case empty

        var description: String {
            switch self {
            case .flipByte(let offset): return "byte \(offset) flipped"
            case .truncate(let length): return "cut to \(length) bytes"
            case .empty: return "empty"
            }
        }
    }

    @Test(packing, arguments: [Damage.flipByte(at: 0), .flipByte(at: 9), .flipByte(at: 40), .flipByte(at: 100), .truncate(to: 4096), .truncate(to: 60), .empty])
    func aDamagedCacheFileIsRebuiltNotTrusted(_ damage: Damage) throws {
        let (path, cache, folder) = try Self.setUp("llama-q4_k_m")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try Model(path: path, threads: 1, packedCache: cache)
        try Self.requirePacking(first)
        first.waitForPackedCache()
        let expected = try Self.logits(first)
        let cachePath = cache.filePath(forModelAt: path)
        let handle = try #require(FileHandle(forUpdatingAtPath: cachePath))
        switch damage {
        case .flipByte(let offset):
            try handle.seek(toOffset: UInt64(offset))
            let byte = try #require(try handle.read(upToCount: 1)).first!
            try handle.seek(toOffset: UInt64(offset))
            handle.write(Data([byte ^ 0x5a]))
        case .truncate(let length): try handle.truncate(atOffset: UInt64(length))
        case .empty: try handle.truncate(atOffset: 0)
        }
        try handle.close()
        let second = try Model(path: path, threads: 1, packedCache: cache)
        #expect(second.packedWeights == .cacheWriting(path: cachePath) || second.packedWeights == .cacheWritten(path: cachePath),
                "a cache file \(damage) must not be mapped")
        #expect(try Self.logits(second) == expected)
        #expect(second.waitForPackedCache() == .cacheWritten(path: cachePath))
        #expect(try Model(path: path, threads: 1, packedCache: cache).packedWeights == .cacheReused(path: cachePath))
    }

    @Test(packing) func anotherModelsCacheFileIsNotTrusted() throws {
        let (path, cache, folder) = try Self.setUp("llama-q8_0")
        defer { try? FileManager.default.removeItem(at: folder) }
        let other = folder.appendingPathComponent("other.gguf").path
        try FileManager.default.copyItem(atPath: FidelityFixtures.modelPath("llama-q4_0"), toPath: other)
        let first = try Model(path: other, threads: 1, packedCache: cache)
        try Self.requirePacking(first)
        first.waitForPackedCache()
        // the Q4_0 model's cache file under the Q8_0 model's name: other identity, other matrices
        try FileManager.default.copyItem(atPath: cache.filePath(forModelAt: other), toPath: cache.filePath(forModelAt: path))
        let second = try Model(path: path, threads: 1, packedCache: cache)
        #expect(second.packedWeights != .cacheReused(path: cache.filePath(forModelAt: path)))
        #expect(try Self.logits(second) == Self.logits(Model(path: path, threads: 1)))
    }

    @Test(packing) func aCacheThatCannotBeWrittenLeavesTheModelPackedInMemory() throws {
        let (path, _, folder) = try Self.setUp("llama-q8_0")
        defer { try? FileManager.default.removeItem(at: folder) }
        // a regular file where the cache folder would be
        let blocker = folder.appendingPathComponent("not-a-folder").path
        try Data("x".utf8).write(to: URL(fileURLWithPath: blocker))
        let cache = PackedWeightCache(directory: blocker + "/cache")
        let model = try Model(path: path, threads: 1, packedCache: cache)
        try Self.requirePacking(model)
        guard case .cacheFailed(let error) = model.waitForPackedCache() else {
            Issue.record("expected a failed cache write, got \(model.packedWeights)")
            return
        }
        #expect(error.path == blocker, "the error names the path that is in the way: \(error)")
        #expect(error.description.contains("Not a directory"), "\(error)")
        #expect(try Self.logits(model) == Self.logits(Model(path: path, threads: 1)))
    }

    @Test(packing) func temporaryFilesOfDeadWritersAreRemoved() throws {
        let (path, cache, folder) = try Self.setUp("llama-q8_0")
        defer { try? FileManager.default.removeItem(at: folder) }
        try FileManager.default.createDirectory(atPath: cache.directory, withIntermediateDirectories: true)
        let name = URL(fileURLWithPath: cache.filePath(forModelAt: path)).lastPathComponent
        // pid_max is at most 2^22: this writer cannot be running; pid 1 always is
        let abandoned = cache.directory + "/.\(name).\(1 << 23).tmp"
        let live = cache.directory + "/.\(name).1.tmp"
        for file in [abandoned, live] { try Data("partial".utf8).write(to: URL(fileURLWithPath: file)) }
        let model = try Model(path: path, threads: 1, packedCache: cache)
        try Self.requirePacking(model)
        model.waitForPackedCache()
        #expect(!FileManager.default.fileExists(atPath: abandoned))
        #expect(FileManager.default.fileExists(atPath: live), "a running writer's file is left alone")
    }

    @Test func withoutPackingNoCacheIsWritten() throws {
        let (path, cache, folder) = try Self.setUp("llama-q8_0")
        defer { try? FileManager.default.removeItem(at: folder) }
        let model = try Model(file: GGUFFile(path: path), threads: 1, packWeights: false, packedCache: cache)
        #expect(model.waitForPackedCache() == .none)
        #expect(!FileManager.default.fileExists(atPath: cache.filePath(forModelAt: path)))
        // and a file with no packable matrix (F32) writes none either; the tokenizer's tables are
        // cached all the same
        let (f32, f32Cache, f32Folder) = try Self.setUp("llama-f32")
        defer { try? FileManager.default.removeItem(at: f32Folder) }
        let f32Model = try Model(path: f32, threads: 1, packedCache: f32Cache)
        #expect(f32Model.waitForPackedCache() == .none)
        #expect(!FileManager.default.fileExists(atPath: f32Cache.filePath(forModelAt: f32)))
        #expect(f32Model.tokenizerTables == .cacheWritten(path: f32Cache.filePath(forModelAt: f32, kind: "ktok")))
    }

    @Test func cacheFileNamesAreKeyedByTheRealPath() throws {
        let (path, cache, folder) = try Self.setUp("llama-q8_0")
        defer { try? FileManager.default.removeItem(at: folder) }
        let link = folder.appendingPathComponent("link.gguf").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: path)
        #expect(cache.filePath(forModelAt: link) == cache.filePath(forModelAt: path))
        let name = URL(fileURLWithPath: cache.filePath(forModelAt: path)).lastPathComponent
        #expect(name.hasPrefix("llama-q8_0-") && name.hasSuffix(".kpack") && name.count == "llama-q8_0-".count + 16 + 6, "\(name)")
    }
}
