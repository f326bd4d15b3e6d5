// The supervisor's memory estimate (KansoGGUF's MemoryEstimate, from the GGUF header alone)
// against what the engine allocates for the same file and settings: the KV caches exactly (both
// count by KVCacheLayout), the forward pass's scratch at most.

import KansoGGUF
import Testing
@testable import KansoEngine

@Suite struct ModelMemoryEstimateTests {
    static let cases: [(fixture: String, type: KVCacheType)] = [
        ("gemma3-f32", .f32), ("gemma3-f32", .f16), ("gemma3-q8_0", .q8_0), ("llama-f32", .f16), ("qwen2-q8_0", .f32),
        ("llama-q4_k_m", .q8_0),
    ]

    @Test(arguments: cases)
    func estimateCountsWhatTheEngineAllocates(_ fixture: String, _ type: KVCacheType) throws {
        let path = FidelityFixtures.modelPath(fixture)
        let model = try Model(path: path, threads: 2, contextLength: 100, batchCapacity: 8, cacheType: type)
        let demand = MemoryDemand(contextLength: 100, kvCache: type, prefixPositions: [10, 300], forkPositions: 12,
                                  batchSize: 8, threads: 2)
        let estimate = GGUFSummary(file: model.file, demand: demand).memory
        #expect(estimate.contextLength == 100 && estimate.kvCacheType == type)
        // The working cache, the prefixes (the second capped by the context), twelve fork positions.
        let parent = try model.makeCache(capacity: 50)
        _ = try model.evaluate([1, 2, 3], in: parent)
        let forks = try parent.fork(capacity: 15)
        #expect(forks.capacityByteCount == 12 * model.cacheByteCount(positions: 1))
        #expect(estimate.kvCacheBytes == model.cacheByteCount(positions: 100) + model.cacheByteCount(positions: 10)
                + model.cacheByteCount(positions: 100) + forks.capacityByteCount)
        #expect(estimate.scratchBytes >= model.scratchByteCount)
        #expect(estimate.fileBytes == model.file.fileSize)
        #expect(estimate.fixedBytes + estimate.variableBytes == estimate.totalBytes)
    }

    @Test func contextIsCappedByTheTrainedLengthAndDefaultsToIt() throws {
        let file = try GGUFFile(path: FidelityFixtures.modelPath("gemma3-f32"))  // trained on 128
        #expect(GGUFSummary(file: file, demand: MemoryDemand(contextLength: 4096)).memory.contextLength == 128)
        #expect(GGUFSummary(file: file, demand: MemoryDemand()).memory.contextLength == 128)
        let masked = GGUFSummary(file: file, demand: MemoryDemand(constrainedDecoding: true)).memory
        #expect(masked.maskerBytes > 0 && masked.variableBytes > GGUFSummary(file: file, demand: MemoryDemand()).memory.variableBytes)
    }
}
