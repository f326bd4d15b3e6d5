@testable import KansoGGUF
import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

@Suite struct GGUFSummaryTests {
    @Test(.enabled(if: SharedData.stories260K != nil, "stories260K.gguf not found"))
    func summarisesStories260K() throws {
        let file = try GGUFFile(path: try #require(SharedData.stories260K).path)
        let summary = GGUFSummary(file: file, contextLength: 512, kvCache: .f32)
        #expect(summary.architecture == "llama")
        #expect(summary.layerCount == 5 && summary.embeddingLength == 64)
        #expect(summary.headCount == 8 && summary.keyValueHeadCount == 4 && summary.keyLength == 8)
        #expect(summary.feedForwardLength == 172)
        #expect(summary.tokenizerModel == "llama" && summary.vocabularySize == 512)
        #expect(summary.contextLength == 2048)
        #expect(summary.types.map(\.type) == [.f32])
        #expect(summary.types.first?.tensors == summary.tensorCount)
        // README: a 260K-parameter model; the file also stores the output matrix (512 × 64)
        // that llama2.c shares with the embedding.
        #expect(summary.parameterCount == file.tensors.reduce(0) { $0 + $1.elementCount })
        #expect((250_000...270_000).contains(summary.parameterCount - 512 * 64))
        #expect(summary.memory.fileBytes == file.fileSize && file.tensorByteCount == summary.parameterCount * 4)
        // K and V: 5 layers × 512 positions × 4 kv heads × (8 + 8) × 4 bytes.
        #expect(summary.memory.kvCacheBytes == 5 * 512 * 4 * 16 * 4)
        #expect(summary.memory.scratchBytes > 0)
        #expect(summary.memory.tokenizerBytes > 0 && summary.memory.maskerBytes == 0)
        #expect(summary.memory.totalBytes == summary.memory.fileBytes + summary.memory.tokenizerBytes
                + summary.memory.kvCacheBytes + summary.memory.scratchBytes)
        let text = summary.description
        #expect(text.contains("(llama)"))
        #expect(text.contains("layers 5"))
        #expect(text.contains("heads 8 (kv 4)"))
        #expect(text.contains("vocabulary 512"))
        #expect(text.contains("F32 \(summary.tensorCount)"))
        #expect(text.contains("at 512 context"))
        #expect(text.contains("KV cache (f32)"))
        // More sequences, more KV cache; f16 (the default) halves it, q8_0 would need blocks of 32.
        let two = GGUFSummary(file: file, contextLength: 512, sequences: 2, kvCache: .f32)
        #expect(two.memory.kvCacheBytes == 2 * summary.memory.kvCacheBytes)
        #expect(GGUFSummary(file: file, contextLength: 512).memory.kvCacheBytes == summary.memory.kvCacheBytes / 2)
    }

    @Test func summarisesFileWithoutHyperParameters() throws {
        var writer = GGUFTestWriter.sample()
        writer.add("llama.block_count", .uint64(UInt64(Int64.max)))  // absurd: must not trap
        writer.add("llama.attention.head_count_kv", .int32(-4))
        let path = try GGUFTestWriter.write(writer.build())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let summary = GGUFSummary(file: try GGUFFile(path: path))
        #expect(summary.name == "sample")
        #expect(summary.parameterCount == 8 + 32)
        #expect(summary.types.map(\.type) == [.q8_0, .f32])  // most bytes first: 34 vs 32
        #expect(summary.contextLength == nil && summary.vocabularySize == nil)
        #expect(summary.memory.kvCacheBytes == 0)
        #expect(summary.description.contains("context     unknown"))
    }

    @Test func formatsSizes() {
        #expect(GGUFSummary.bytes(512) == "512 B")
        #expect(GGUFSummary.bytes(1536) == "1.5 KiB")
        #expect(GGUFSummary.bytes(3 * 1024 * 1024 * 1024) == "3.0 GiB")
        #expect(GGUFSummary.count(260_123) == "260.1K")
        #expect(GGUFSummary.count(1_240_000_000) == "1.2B")
    }
}
