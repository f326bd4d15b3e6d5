// The KV cache's storage (KVCache.swift): memory committed as positions fill, rings on the
// sliding-window layers, forks that read their parent instead of copying it, and the q8_0 type.
// On the fidelity fixtures, so every path is also held to llama.cpp's logits.

import KansoGGUF
import KansoKernelsPortable
import Foundation
import Testing
@testable import KansoEngine

@Suite struct ModelKVCacheTests {
    /// gemma3-f32: 6 layers (5 with a window of 8, layer 5 global), heads of 32, context 128.
    func gemma(batchCapacity: Int = 4, type: KVCacheType = .f32) throws -> Model {
        try Model(path: FidelityFixtures.modelPath("gemma3-f32"), threads: 1, contextLength: 128,
                  batchCapacity: batchCapacity, cacheType: type)
    }

    @Test func engineDefaultsToHalfPrecision() throws {
        let model = try Model(path: FidelityFixtures.modelPath("llama-f32"), threads: 1)
        #expect(model.cacheType == .f16)
        #expect(try model.makeCache().type == .f16)
    }

    @Test func slidingLayersKeepARingOfTheWindowAndOnePass() throws {
        let model = try gemma()
        let cache = try model.makeCache()
        let layout = cache.layout
        #expect(layout.ringPositions == 8 + 4)
        #expect((0..<6).map { layout.heldPositions(layer: $0, positions: 128) } == [12, 12, 12, 12, 12, 128])
        #expect(cache.capacityByteCount == 2 * (5 * 12 + 128) * layout.rowBytes)
        #expect(model.cacheByteCount(positions: 128) == cache.capacityByteCount)
        // A 100-token prompt in passes of 4 wraps each ring eight times; the logits stay llama.cpp's.
        let golden = try FidelityFixtures.golden("gemma3-f32")
        let rows = try model.evaluate(golden.longPrompt, in: cache, allLogits: true)
        FidelityTests().compare(golden.longLogitPositions.map { rows[$0] }, expected: golden.longLogits, golden: golden,
                                what: "100 tokens through rings of 12")
    }

    @Test func truncatingBeyondTheRingIsRefusedAndPrefillStartsOver() throws {
        let model = try gemma()
        let golden = try FidelityFixtures.golden("gemma3-f32")
        let prompt = Array(golden.longPrompt.prefix(40))
        let cache = try model.makeCache()
        _ = try model.evaluate(prompt, in: cache)
        // The ring holds positions 28..<40: continuing from 39 needs 32..<39, from 20 needs 13..<20.
        #expect(cache.canContinue(from: 39) && !cache.canContinue(from: 20))
        #expect(throws: ModelError.self) { try cache.truncate(to: 20) }
        #expect(cache.length == 40)
        try cache.truncate(to: 38)
        #expect(cache.reusableLength(of: prompt, atMost: 37) == 37)
        // A prompt that shares only 20 tokens is evaluated all again, correctly.
        let other = Array(prompt.prefix(20)) + Array(golden.longPrompt[60..<80])
        #expect(cache.reusableLength(of: other, atMost: other.count - 1) == 0)
        let (logits, reused) = try Generator.prefill(other, in: cache, model: model)
        #expect(reused == 0 && cache.tokens == other)
        let fresh = try model.evaluate(other, in: try model.makeCache())[0]
        #expect(maximum(logits, fresh) < 1e-5)
    }

    @Test func forksReadTheirParentWithoutACopy() throws {
        let model = try gemma(batchCapacity: 8)
        let golden = try FidelityFixtures.golden("gemma3-f32")
        let prompt = Array(golden.longPrompt.prefix(64))
        let whole = try model.evaluate(prompt, in: try model.makeCache(), allLogits: true)
        let parent = try model.makeCache()
        _ = try model.evaluate(Array(prompt.prefix(40)), in: parent)
        do {
            // From the end of the parent, and from inside its last pass (position 36).
            let end = try parent.fork(capacity: 100)
            let inside = try parent.fork(at: 36, capacity: 100)
            #expect(parent.liveForks == 2 && end.base == 40 && inside.base == 36 && end.length == 40 && inside.length == 36)
            #expect(end.capacityByteCount < parent.capacityByteCount)
            let fromEnd = try model.evaluate(Array(prompt[40...]), in: end, allLogits: true)
            let fromInside = try model.evaluate(Array(prompt[36...]), in: inside, allLogits: true)
            for (i, row) in fromEnd.enumerated() { #expect(maximum(row, whole[40 + i]) < 1e-4, "fork at 40, position \(40 + i)") }
            for (i, row) in fromInside.enumerated() { #expect(maximum(row, whole[36 + i]) < 1e-4, "fork at 36, position \(36 + i)") }
            // A fork of a fork reads both; the parent may not change while they read it.
            let grandchild = try end.fork(capacity: 100)
            let next = try model.evaluate([prompt[63]], in: grandchild)[0]
            #expect(grandchild.length == 65 && next.count == golden.vocabularySize)
            #expect(throws: ModelError.self) { try model.evaluate([1], in: parent) }
            #expect(throws: ModelError.self) { try end.truncate(to: 30) }
            // The sliding window before 20 left the parent's rings: no fork there.
            #expect(throws: ModelError.self) { try parent.fork(at: 20, capacity: 100) }
            // Each fork takes a token, so each is a level deeper (a fork at its base forks the parent).
            var chain = grandchild
            #expect(throws: ModelError.self) {
                for _ in 0..<KVCache.maximumDepth {
                    chain = try chain.fork(capacity: 100)
                    _ = try model.evaluate([5], in: chain)
                }
            }
        }
        #expect(parent.liveForks == 0)
        _ = try model.evaluate([prompt[40]], in: parent)
    }

    @Test func aForkTakesASiblingsOwnPositions() throws {
        let model = try gemma(batchCapacity: 8)
        let golden = try FidelityFixtures.golden("gemma3-f32")
        let prompt = Array(golden.longPrompt.prefix(44))
        let whole = try model.evaluate(prompt, in: try model.makeCache(), allLogits: true)
        let parent = try model.makeCache()
        _ = try model.evaluate(Array(prompt.prefix(40)), in: parent)
        do {
            let first = try parent.fork(capacity: 50)
            _ = try model.evaluate(Array(prompt[40..<42]), in: first)
            // A sibling that takes the first's two own positions goes on as the first would.
            let second = try parent.fork(capacity: 50)
            try second.copyOwnPositions(of: first)
            #expect(second.tokens == first.tokens && second.length == 42)
            let next = try model.evaluate(Array(prompt[42..<44]), in: second, allLogits: true)
            for (i, row) in next.enumerated() { #expect(maximum(row, whole[42 + i]) < 1e-4, "position \(42 + i)") }
            // Only a fork of the same parent at the same base.
            let elsewhere = try parent.fork(at: 36, capacity: 50)
            #expect(throws: ModelError.self) { try elsewhere.copyOwnPositions(of: first) }
            #expect(throws: ModelError.self) { try model.makeCache().copyOwnPositions(of: first) }
        }
        #expect(parent.liveForks == 0)
    }

    @Test func copiedPrefixesAndForksAgree() throws {
        let model = try gemma()
        let golden = try FidelityFixtures.golden("gemma3-f32")
        let prompt = Array(golden.longPrompt.prefix(50))
        let source = try model.makeCache()
        _ = try model.evaluate(Array(prompt.prefix(30)), in: source)
        let copy = try model.makeCache()
        try copy.copyPrefix(from: source, length: 30)
        let fork = try source.fork(capacity: 50)
        let fromCopy = try model.evaluate(Array(prompt[30...]), in: copy, allLogits: true)
        let fromFork = try model.evaluate(Array(prompt[30...]), in: fork, allLogits: true)
        for (a, b) in zip(fromCopy, fromFork) { #expect(maximum(a, b) < 1e-5) }
    }

    @Test func memoryIsCommittedAsPositionsFillAndGivenBack() throws {
        // llama-f32: 2 layers, 2 key heads of 16 floats: 128 bytes a row, 16 KiB per layer's keys.
        let model = try Model(path: FidelityFixtures.modelPath("llama-f32"), threads: 1, cacheType: .f32)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let cache = try model.makeCache(capacity: 128)
        #expect(cache.capacityByteCount == 2 * 2 * 128 * 128)
        #expect(cache.residentByteCount == 0)
        let prompt = (0..<128).map { Int32(3 + $0 % 400) }
        _ = try model.evaluate(Array(prompt.prefix(10)), in: cache)
        // Ten rows in each of the four regions (keys and values of two layers): a page each.
        #expect(cache.residentByteCount == 4 * page)
        _ = try model.evaluate(Array(prompt[10...]), in: cache)
        #expect(cache.residentByteCount == cache.capacityByteCount)
        try cache.truncate(to: 10)
        cache.releaseUnused()
        #expect(cache.residentByteCount == 4 * page)
        // The scratch of the forward pass goes back too, and comes again with the next pass.
        #expect(model.scratchResidentByteCount > 0)
        model.releaseIdleMemory()
        #expect(model.scratchResidentByteCount == 0)
        _ = try model.evaluate([5], in: cache)
        #expect(model.scratchResidentByteCount > 0)
    }

    @Test("a q8_0 cache stays close to llama.cpp's single-precision logits",
          arguments: ["gemma3-f32", "llama-mha-q8_0", "qwen3-f16", "llama-q4_k_m"])
    func blockQuantizedCache(_ name: String) throws {
        let golden = try FidelityFixtures.golden(name)
        let model = try Model(path: FidelityFixtures.modelPath(name), threads: 1, contextLength: 128, cacheType: .q8_0)
        let rows = try model.evaluate(golden.longPrompt, in: try model.makeCache(), allLogits: true)
        FidelityTests().compare(golden.longLogitPositions.map { rows[$0] }, expected: golden.longLogits, golden: golden,
                                allowance: FidelityTolerance.blockQuantizedCache, what: "100-token prompt, q8_0 cache")
    }

    @Test func blockQuantizedCacheNeedsWholeBlocksPerHead() throws {
        // llama-f32's heads have 16 values: half a q8_0 block.
        let path = FidelityFixtures.modelPath("llama-f32")
        #expect(throws: ModelError.self) { try Model(path: path, threads: 1, cacheType: .q8_0) }
        let model = try Model(path: path, threads: 1)
        #expect(throws: ModelError.self) { try model.makeCache(type: .q8_0) }
    }

    @Test func blockQuantizedRowsRoundTrip() throws {
        // Each value comes back within half a step of its block (d = max|x| / 127).
        let values = (0..<64).map { Float(sin(Double($0) * 0.7)) * ($0 < 32 ? 3 : 0.01) }
        var block = [UInt8](repeating: 0, count: KVCacheType.q8_0.byteCount(values: 64))
        values.withUnsafeBufferPointer { source in
            block.withUnsafeMutableBytes { KVRowEncoding.encode(source.baseAddress!, into: $0.baseAddress!, count: 64, type: .q8_0) }
        }
        var ones = [Float](repeating: 0, count: 64)
        for i in 0..<64 {
            ones = [Float](repeating: 0, count: 64)
            ones[i] = 1
            let decoded = ones.withUnsafeBufferPointer { one in
                block.withUnsafeBytes { AttentionRows.dotBlocks(one.baseAddress!, $0.baseAddress!, count: 64) }
            }
            // Half a step, and the f16 rounding of the scale times the largest byte (127 × 2⁻¹¹).
            let step = (i < 32 ? values[..<32] : values[32...]).map(abs).max()! / 127
            #expect(abs(decoded - values[i]) <= step * (0.5 + 127.0 / 2048), "value \(i): \(decoded) for \(values[i])")
        }
    }

    private func maximum(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
}
