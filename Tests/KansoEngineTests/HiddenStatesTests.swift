// The model's representation of a text (Model.hiddenStates) on the real stories260K: the final
// norm's rows are what the output matrix reads (they reproduce the logits), a pass stopped early
// gives the same rows as a whole one, chunking changes nothing, and the cache ends as it began.

import KansoGGUF
import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

@Suite(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct HiddenStatesTests {
    static let prompt: [Int32] = [1, 403, 407, 261, 378, 29, 275, 350, 301, 283, 400]

    func load(batchCapacity: Int = 32) throws -> Model {
        let url = try #require(SharedData.stories260K)
        return try Model(path: url.path, threads: 1, contextLength: 512, batchCapacity: batchCapacity)
    }

    func maximumDifference(_ a: [[Float]], _ b: [[Float]]) -> Float {
        guard a.count == b.count else { return .infinity }
        return zip(a, b).map { pair in
            pair.0.count == pair.1.count ? zip(pair.0, pair.1).map { abs($0 - $1) }.max() ?? 0 : .infinity
        }.max() ?? 0
    }

    @Test func finalNormRowsGiveTheLogits() throws {
        let model = try load()
        let prefix = try model.makeCache()
        _ = try model.evaluate(Array(Self.prompt.prefix(3)), in: prefix)
        let text = Array(Self.prompt.dropFirst(3))
        let rows = try model.hiddenStates(of: text, after: prefix, layers: [.finalNorm])[0]
        #expect(rows.count == text.count)
        #expect(rows.allSatisfy { $0.count == model.configuration.embeddingLength })

        let expected = try model.evaluate(Self.prompt, in: model.makeCache(), allLogits: true).suffix(text.count)
        let output = model.transformer.weights.output
        var logits: [[Float]] = []
        for row in rows {
            var out = [Float](repeating: 0, count: model.configuration.vocabularySize)
            row.withUnsafeBufferPointer { x in
                out.withUnsafeMutableBufferPointer { y in output.multiply(x.baseAddress!, into: y.baseAddress!, rows: 0..<y.count) }
            }
            logits.append(out)
        }
        #expect(maximumDifference(logits, Array(expected)) < 1e-3)
    }

    @Test func stoppingEarlyGivesTheRowsOfTheWholePass() throws {
        let model = try load()
        let layerCount = model.configuration.layerCount
        let prefix = try model.makeCache()
        _ = try model.evaluate([Self.prompt[0]], in: prefix)
        let text = Array(Self.prompt.dropFirst())
        let both = try model.hiddenStates(of: text, after: prefix, layers: [.block(2), .finalNorm, .block(layerCount)])
        let early = try model.hiddenStates(of: text, after: prefix, layers: [.block(2)])[0]
        #expect(maximumDifference(early, both[0]) == 0)
        // The final norm is the RMS norm of the last block's residual times its weight.
        let weight = model.transformer.weights.outputNorm
        for (residual, normed) in zip(both[2], both[1]) {
            let rms = (residual.reduce(0) { $0 + $1 * $1 } / Float(residual.count) + model.configuration.normEpsilon).squareRoot()
            for j in residual.indices { #expect(abs(residual[j] / rms * weight[j] - normed[j]) < 1e-4) }
        }
        #expect(both[0] != both[2])
    }

    @Test func theCacheEndsAsItBeganAndStillEvaluates() throws {
        let model = try load()
        let prefix = try model.makeCache()
        _ = try model.evaluate(Array(Self.prompt.prefix(4)), in: prefix)
        _ = try model.hiddenStates(of: Array(Self.prompt.dropFirst(4)), after: prefix, layers: [.block(1)])
        #expect(prefix.tokens == Array(Self.prompt.prefix(4)))
        // The early stop left later layers unwritten past the prefix: continuing must not see them.
        let continued = try model.evaluate(Array(Self.prompt.dropFirst(4)), in: prefix, allLogits: true)
        let fresh = try model.evaluate(Self.prompt, in: model.makeCache(), allLogits: true).suffix(continued.count)
        #expect(maximumDifference(continued, Array(fresh)) < 1e-4)
    }

    @Test func chunkedPassesGiveTheSameRows() throws {
        let whole = try load(batchCapacity: 32), chunked = try load(batchCapacity: 4)
        let layers: [HiddenLayer] = [.block(3), .finalNorm]
        let a = try whole.hiddenStates(of: Self.prompt, after: whole.makeCache(), layers: layers)
        let b = try chunked.hiddenStates(of: Self.prompt, after: chunked.makeCache(), layers: layers)
        for index in layers.indices { #expect(maximumDifference(a[index], b[index]) < 1e-4) }
    }

    @Test func badArgumentsAreErrors() throws {
        let model = try load()
        let cache = try model.makeCache()
        let layerCount = model.configuration.layerCount
        #expect(throws: ModelError.self) { try model.hiddenStates(of: [], after: cache, layers: [.finalNorm]) }
        #expect(throws: ModelError.self) { try model.hiddenStates(of: [1], after: cache, layers: []) }
        #expect(throws: ModelError.self) { try model.hiddenStates(of: [1], after: cache, layers: [.block(0)]) }
        #expect(throws: ModelError.self) { try model.hiddenStates(of: [1], after: cache, layers: [.block(layerCount + 1)]) }
        #expect(throws: ModelError.self) { try model.hiddenStates(of: [99_999], after: cache, layers: [.finalNorm]) }
        #expect(cache.length == 0)
    }

    @Test func poolingAndLayerNames() {
        let rows: [[Float]] = [[1, 2], [3, 6]]
        #expect(HiddenPooling.mean.pool(rows) == [2, 4])
        #expect(HiddenPooling.last.pool(rows) == [3, 6])
        #expect(HiddenLayer("block12") == .block(12))
        #expect(HiddenLayer("final") == .finalNorm)
        #expect(HiddenLayer("block0") == nil && HiddenLayer("middle") == nil)
        #expect(HiddenLayer(HiddenLayer.block(7).description) == .block(7))
    }
}
