// The classify agents' head: trained on separable toy data it classifies held-out points right,
// its confidence follows how separable the data are (the fitted temperature), bad training data
// is a typed error, and its cache file round-trips exactly and refuses damage and other keys.

import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

struct ClassifierHeadTests {
    /// `perClass` points around each of `classCount` random centres (from `seed`) in `width`
    /// dimensions, with noise (from `noiseSeed`) of `spread` per coordinate.
    static func clusters(classCount: Int, perClass: Int, width: Int, spread: Float, seed: UInt64,
                         noiseSeed: UInt64 = 100) -> (x: [[Float]], y: [Int]) {
        var random = SplitMix64(seed: seed)
        func uniform() -> Float { Float(random.next() >> 11) / Float(1 << 53) * 2 - 1 }
        let centres = (0..<classCount).map { _ in (0..<width).map { _ in uniform() } }
        random = SplitMix64(seed: noiseSeed)
        var x: [[Float]] = [], y: [Int] = []
        for index in 0..<(classCount * perClass) {
            let label = index % classCount
            // A shared offset and one large feature make standardization matter.
            x.append(centres[label].enumerated().map { j, c in (c + spread * uniform()) * (j == 0 ? 1000 : 1) + 5 })
            y.append(label)
        }
        return (x, y)
    }

    static let names = ["billing", "bug", "feature request", "account"]

    @Test(arguments: ClassifierHead.Kind.allCases)
    func separableClustersAreLearned(kind: ClassifierHead.Kind) throws {
        let training = Self.clusters(classCount: 4, perClass: 10, width: 64, spread: 0.3, seed: 1)
        let head = try ClassifierHead.train(features: training.x, labels: training.y, labelNames: Self.names,
                                            settings: .init(kind: kind))
        #expect(head.labels == Self.names)
        #expect(head.featureWidth == 64)
        let testing = Self.clusters(classCount: 4, perClass: 30, width: 64, spread: 0.3, seed: 1, noiseSeed: 200)
        var right = 0
        for (vector, label) in zip(testing.x, testing.y) {
            let p = head.probabilities(vector)
            #expect(abs(p.reduce(0, +) - 1) < 1e-9)
            if p.indices.max(by: { p[$0] < p[$1] }) == label { right += 1 }
        }
        #expect(right == testing.y.count)
    }

    /// The gap between mean confidence and accuracy on 400 fresh points, averaged over three
    /// training sets of 120 points from overlapping classes (about 55% separable).
    static func calibrationGap(penalty: Double, calibrationFolds: Int) throws -> Double {
        let test = clusters(classCount: 4, perClass: 100, width: 32, spread: 4, seed: 3, noiseSeed: 999)
        var gap = 0.0
        for noiseSeed: UInt64 in [100, 200, 400] {
            let data = clusters(classCount: 4, perClass: 30, width: 32, spread: 4, seed: 3, noiseSeed: noiseSeed)
            let head = try ClassifierHead.train(features: data.x, labels: data.y, labelNames: names,
                                                settings: .init(penalty: penalty, calibrationFolds: calibrationFolds))
            var confidence = 0.0, right = 0
            for (vector, label) in zip(test.x, test.y) {
                let p = head.probabilities(vector)
                confidence += p.max()!
                if p.indices.max(by: { p[$0] < p[$1] }) == label { right += 1 }
            }
            gap += abs(confidence - Double(right)) / Double(test.x.count) / 3
        }
        return gap
    }

    @Test func theFittedTemperatureMakesConfidenceMatchAccuracy() throws {
        // A weakly penalized head fits its examples too well and is too sure on new points; the
        // temperature fitted on held-out folds brings its confidence to how often it is right.
        let uncalibrated = try Self.calibrationGap(penalty: 0.003, calibrationFolds: 0)
        let calibrated = try Self.calibrationGap(penalty: 0.003, calibrationFolds: 5)
        #expect(uncalibrated > 0.1)
        #expect(calibrated < 0.05)
    }

    @Test func selectionPicksTheInformativeFeatureAndTheEarlierOfEquals() throws {
        let separable = Self.clusters(classCount: 4, perClass: 10, width: 16, spread: 0.3, seed: 21)
        var random = SplitMix64(seed: 22)
        let noise = separable.x.map { row in row.map { _ in Float(random.next(below: 1000)) / 1000 } }
        let features: [HeadFeature: [[Float]]] = [
            HeadFeature(layer: .block(2), pooling: .mean): noise,
            HeadFeature(layer: .block(6), pooling: .last): separable.x,
            HeadFeature(layer: .block(10), pooling: .mean): separable.x,
            HeadFeature(layer: .finalNorm, pooling: .mean): noise,
        ]
        let choice = try ClassifierHead.select(features: features, labels: separable.y, labelNames: Self.names)
        #expect(choice.feature == HeadFeature(layer: .block(6), pooling: .last))
        #expect(choice.crossValidatedAccuracy == 1)
        #expect(choice.head.temperature != 1)   // fitted on folds
        #expect(HeadFeature.candidates(layerCount: 5).map(\.description)
                == ["block2/last", "block2/mean", "block4/last", "block4/mean", "final/last", "final/mean"])
    }

    @Test func badTrainingDataIsATypedError() {
        let x: [[Float]] = [[1, 2], [2, 1], [0, 0]]
        #expect(throws: ClassifierHeadError.labelWithoutExamples("c")) {
            try ClassifierHead.train(features: x, labels: [0, 1, 1], labelNames: ["a", "b", "c"])
        }
        #expect(throws: ClassifierHeadError.inconsistentWidth(example: 1, width: 1, expected: 2)) {
            try ClassifierHead.train(features: [[1, 2], [1]], labels: [0, 1], labelNames: ["a", "b"])
        }
        #expect(throws: ClassifierHeadError.labelOutOfRange(example: 2, label: 5, labelCount: 2)) {
            try ClassifierHead.train(features: x, labels: [0, 1, 5], labelNames: ["a", "b"])
        }
        #expect(throws: ClassifierHeadError.examplesMismatch(features: 3, labels: 2)) {
            try ClassifierHead.train(features: x, labels: [0, 1], labelNames: ["a", "b"])
        }
        #expect(throws: ClassifierHeadError.nonFiniteFeature(example: 0)) {
            try ClassifierHead.train(features: [[.nan, 1], [1, 1]], labels: [0, 1], labelNames: ["a", "b"])
        }
        #expect(throws: ClassifierHeadError.noLabels) { try ClassifierHead.train(features: x, labels: [0, 0, 0], labelNames: []) }
    }

    @Test(arguments: ClassifierHead.Kind.allCases)
    func theCacheFileRoundTripsAndRefusesDamage(kind: ClassifierHead.Kind) throws {
        let data = Self.clusters(classCount: 4, perClass: 6, width: 16, spread: 0.5, seed: 9)
        let head = try ClassifierHead.train(features: data.x, labels: data.y, labelNames: Self.names, settings: .init(kind: kind))
        let bytes = head.encoded(key: "model A; examples v1")
        #expect(try ClassifierHead(decoding: bytes, key: "model A; examples v1") == head)
        #expect(throws: ClassifierHeadError.self) { try ClassifierHead(decoding: bytes, key: "model B; examples v1") }
        #expect(throws: ClassifierHeadError.self) { try ClassifierHead(decoding: Array(bytes.dropLast(9)), key: "model A; examples v1") }
        var flipped = bytes
        flipped[bytes.count / 2] ^= 0x10
        #expect(throws: ClassifierHeadError.self) { try ClassifierHead(decoding: flipped, key: "model A; examples v1") }
        #expect(throws: ClassifierHeadError.self) { try ClassifierHead(decoding: Array("not a head".utf8), key: "") }

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-head-\(getpid())-\(kind.rawValue)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cache = PackedWeightCache(directory: folder + "/nested")
        #expect(cache.readHead(key: "k") == nil)
        try cache.writeHead(head, key: "k")
        #expect(cache.readHead(key: "k") == head)
        #expect(cache.readHead(key: "other") == nil)
        #expect(cache.headFilePath(key: "k") != cache.headFilePath(key: "other"))
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: cache.headFilePath(key: "k")))
        #expect(cache.readHead(key: "k") == nil)
    }
}

struct LabelCalibrationTests {
    @Test func aKnownPriorIsDividedOut() {
        let prior = [0.7, 0.2, 0.1]
        // Content-free inputs whose label scores give exactly the prior (any offset per input).
        let calibration = ContextualCalibration(contentFreeScores: [prior.map { log($0) + 3 }, prior.map { log($0) - 1 }])
        for (value, expected) in zip(calibration.logPrior, prior.map { log($0) }) { #expect(abs(value - expected) < 1e-12) }
        // A text the model scores as the prior is uninformative: uniform after calibration.
        for p in calibration.probabilities(scores: prior.map { log($0) }) { #expect(abs(p - 1.0 / 3) < 1e-12) }
        // Raw 0.5/0.3/0.2 favours label 0; divided by the prior, label 2 (0.2/0.1) wins.
        let calibrated = calibration.probabilities(scores: [log(0.5), log(0.3), log(0.2)])
        let expected = [0.5 / 0.7, 0.3 / 0.2, 0.2 / 0.1]
        let sum = expected.reduce(0, +)
        for (value, target) in zip(calibrated, expected) { #expect(abs(value - target / sum) < 1e-12) }
    }

    @Test func theInputsPriorIsTheMeanOfTheirProbabilities() {
        let calibration = ContextualCalibration(contentFreeScores: [[log(0.9), log(0.1)], [log(0.5), log(0.5)]])
        #expect(abs(exp(calibration.logPrior[0]) - 0.7) < 1e-12)
        #expect(abs(exp(calibration.logPrior[1]) - 0.3) < 1e-12)
    }

    @Test func scoreFormsAndBlend() {
        let score = ContinuationScore(tokenLogProbabilities: [-1, -3])
        #expect(LabelScoreForm.sum.score(score) == -4)
        #expect(LabelScoreForm.mean.score(score) == -2)
        #expect(LabelScoreForm.first.score(score) == -1)
        #expect(LabelScoreForm.sum.score(ContinuationScore(tokenLogProbabilities: [])) == -.infinity)
        let a = [0.8, 0.2], b = [0.2, 0.8]
        #expect(LabelProbabilities.blend(a, b, weight: 1) .elementsEqual(a) { abs($0 - $1) < 1e-12 })
        #expect(LabelProbabilities.blend(a, b, weight: 0.5).elementsEqual([0.5, 0.5]) { abs($0 - $1) < 1e-12 })
        #expect(LabelProbabilities.softmax([0, .infinity * -1]) == [1, 0])
    }
}
