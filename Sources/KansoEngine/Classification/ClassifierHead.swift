// A small classifier over the model's own representation of a text (HiddenStates.swift), trained
// at load on an agent's worked examples: each feature standardized (the examples' mean and
// standard deviation), then a multinomial logistic regression or a nearest-centroid rule (cosine
// to each label's mean). Its logits are divided by a temperature fitted on held-out folds of the
// examples, so that its confidence is a probability an escalation threshold can use.
//
// Use:
//   let head = try ClassifierHead.train(features: exampleVectors, labels: exampleLabelIndices,
//                                       labelNames: ["billing", "bug", ...], settings: .init())
//   head.probabilities(textVector)        // [labels], summing to 1
//   let bytes = head.encoded()            // the cache file (ClassifierHeadFile.swift)

import Glibc

public struct ClassifierHead: Sendable, Equatable {
    public enum Kind: UInt8, Sendable, CaseIterable {
        case logisticRegression = 1
        case nearestCentroid = 2
    }

    public struct Settings: Sendable, Equatable {
        public var kind: Kind
        /// λ of the logistic regression's L2 penalty (per unit of mean loss, on standardized features).
        public var penalty: Double
        public var iterations: Int
        /// Folds of the examples whose held-out logits fit the temperature; 0 keeps temperature 1.
        public var calibrationFolds: Int

        public init(kind: Kind = .logisticRegression, penalty: Double = 0.05, iterations: Int = 300, calibrationFolds: Int = 5) {
            self.kind = kind
            self.penalty = penalty
            self.iterations = iterations
            self.calibrationFolds = calibrationFolds
        }
    }

    public let kind: Kind
    public let labels: [String]
    /// Logits = weights · x + bias, on raw features (the standardization folded in): [K][D], [K].
    let weights: [[Float]]
    let bias: [Float]
    /// Nearest centroid only: the standardization, applied before the cosine. [D] each.
    let mean: [Float]
    let scale: [Float]
    /// Logits are divided by this before the softmax.
    public let temperature: Float

    public var featureWidth: Int { weights.first?.count ?? 0 }

    init(kind: Kind, labels: [String], weights: [[Float]], bias: [Float], mean: [Float], scale: [Float], temperature: Float) {
        self.kind = kind
        self.labels = labels
        self.weights = weights
        self.bias = bias
        self.mean = mean
        self.scale = scale
        self.temperature = temperature
    }

    /// Trains on `features` ([N][D], one vector per example) with `labels` ([N], indices into
    /// `labelNames`). Every label needs at least one example.
    public static func train(features: [[Float]], labels: [Int], labelNames: [String], settings: Settings = Settings()) throws -> ClassifierHead {
        guard !labelNames.isEmpty else { throw ClassifierHeadError.noLabels }
        guard !features.isEmpty, features.count == labels.count else {
            throw ClassifierHeadError.examplesMismatch(features: features.count, labels: labels.count)
        }
        let width = features[0].count
        guard width > 0 else { throw ClassifierHeadError.inconsistentWidth(example: 0, width: 0, expected: 1) }
        for (index, vector) in features.enumerated() where vector.count != width {
            throw ClassifierHeadError.inconsistentWidth(example: index, width: vector.count, expected: width)
        }
        for (index, label) in labels.enumerated() where label < 0 || label >= labelNames.count {
            throw ClassifierHeadError.labelOutOfRange(example: index, label: label, labelCount: labelNames.count)
        }
        for (index, name) in labelNames.enumerated() where !labels.contains(index) {
            throw ClassifierHeadError.labelWithoutExamples(name)
        }
        for (index, vector) in features.enumerated() where !vector.allSatisfy({ $0.isFinite }) {
            throw ClassifierHeadError.nonFiniteFeature(example: index)
        }
        var temperature: Float = 1
        if settings.calibrationFolds >= 2 {
            temperature = fittedTemperature(features: features, labels: labels, classCount: labelNames.count, settings: settings)
        }
        return fit(features: features, labels: labels, labelNames: labelNames, settings: settings, temperature: temperature)
    }

    /// The head on all of `features`, with the given temperature.
    static func fit(features: [[Float]], labels: [Int], labelNames: [String], settings: Settings, temperature: Float) -> ClassifierHead {
        let (mean, scale) = standardization(features)
        let standardized = features.map { standardize($0, mean: mean, scale: scale) }
        let k = labelNames.count
        switch settings.kind {
        case .logisticRegression:
            let (w, b) = LogisticRegression(penalty: settings.penalty, iterations: settings.iterations)
                .fit(standardized, labels: labels, classCount: k)
            // w·((x − μ)/σ) + b = (w/σ)·x + (b − (w/σ)·μ)
            var weights = w, bias = b
            for c in 0..<k {
                for j in weights[c].indices { weights[c][j] = w[c][j] / scale[j] }
                bias[c] = b[c] - zip(weights[c], mean).reduce(0) { $0 + $1.0 * $1.1 }
            }
            return ClassifierHead(kind: .logisticRegression, labels: labelNames, weights: weights, bias: bias,
                                  mean: [], scale: [], temperature: temperature)
        case .nearestCentroid:
            var centroids = [[Float]](repeating: [Float](repeating: 0, count: mean.count), count: k)
            var counts = [Float](repeating: 0, count: k)
            for (vector, label) in zip(standardized, labels) {
                counts[label] += 1
                for j in vector.indices { centroids[label][j] += vector[j] }
            }
            for c in 0..<k { centroids[c] = unit(centroids[c].map { $0 / counts[c] }) }
            return ClassifierHead(kind: .nearestCentroid, labels: labelNames, weights: centroids, bias: [Float](repeating: 0, count: k),
                                  mean: mean, scale: scale, temperature: temperature)
        }
    }

    /// The logits of `features` [D] before the temperature: [K].
    public func rawLogits(_ features: [Float]) -> [Float] {
        let x = kind == .nearestCentroid ? Self.unit(Self.standardize(features, mean: mean, scale: scale)) : features
        return weights.indices.map { c in
            var dot = bias[c]
            weights[c].withUnsafeBufferPointer { w in
                for j in 0..<min(w.count, x.count) { dot += w[j] * x[j] }
            }
            return dot
        }
    }

    /// The probability of each label for `features` [D]: softmax(logits / temperature).
    public func probabilities(_ features: [Float]) -> [Double] {
        LabelProbabilities.softmax(rawLogits(features).map { Double($0 / temperature) })
    }

    /// Mean and standard deviation of each feature over the examples; a deviation below a
    /// thousandth of the typical one is raised to it, so a near-constant feature cannot explode.
    static func standardization(_ features: [[Float]]) -> (mean: [Float], scale: [Float]) {
        let width = features[0].count
        let n = Double(features.count)
        var mean = [Double](repeating: 0, count: width)
        for vector in features { for j in 0..<width { mean[j] += Double(vector[j]) } }
        for j in 0..<width { mean[j] /= n }
        var variance = [Double](repeating: 0, count: width)
        for vector in features {
            for j in 0..<width {
                let d = Double(vector[j]) - mean[j]
                variance[j] += d * d
            }
        }
        var deviation = variance.map { ($0 / n).squareRoot() }
        let typical = deviation.sorted()[width / 2]
        let floor = max(typical * 1e-3, 1e-12)
        deviation = deviation.map { max($0, floor) }
        return (mean.map { Float($0) }, deviation.map { Float($0) })
    }

    static func standardize(_ x: [Float], mean: [Float], scale: [Float]) -> [Float] {
        var out = x
        for j in out.indices { out[j] = (x[j] - mean[j]) / scale[j] }
        return out
    }

    static func unit(_ x: [Float]) -> [Float] {
        let norm = x.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? x.map { $0 / norm } : x
    }

    /// The temperature that minimizes the negative log-likelihood of held-out logits: each
    /// example's logits come from a head trained on the other folds (folds dealt round-robin
    /// within each label, so each fold has every label when it can).
    static func fittedTemperature(features: [[Float]], labels: [Int], classCount: Int, settings: Settings) -> Float {
        let folds = settings.calibrationFolds
        let fold = foldOfEach(labels, folds: folds)
        var heldOut: [(logits: [Float], label: Int)] = []
        let names = (0..<classCount).map(String.init)
        for f in 0..<folds {
            let training = labels.indices.filter { fold[$0] != f }
            let testing = labels.indices.filter { fold[$0] == f }
            guard !testing.isEmpty, Set(training.map { labels[$0] }).count == classCount else { continue }
            let head = fit(features: training.map { features[$0] }, labels: training.map { labels[$0] }, labelNames: names,
                           settings: settings, temperature: 1)
            for index in testing { heldOut.append((head.rawLogits(features[index]), labels[index])) }
        }
        guard !heldOut.isEmpty else { return 1 }
        func loss(_ temperature: Double) -> Double {
            heldOut.reduce(0) { total, example in
                let probabilities = LabelProbabilities.softmax(example.logits.map { Double($0) / temperature })
                return total - log(max(probabilities[example.label], 1e-300))
            }
        }
        // Golden-section search over ln T in [ln 0.01, ln 100]: the loss is unimodal in T.
        var low = log(0.01), high = log(100.0)
        let ratio = (5.0.squareRoot() - 1) / 2
        var left = high - ratio * (high - low), right = low + ratio * (high - low)
        var leftLoss = loss(exp(left)), rightLoss = loss(exp(right))
        for _ in 0..<60 {
            if leftLoss < rightLoss {
                high = right; right = left; rightLoss = leftLoss
                left = high - ratio * (high - low); leftLoss = loss(exp(left))
            } else {
                low = left; left = right; leftLoss = rightLoss
                right = low + ratio * (high - low); rightLoss = loss(exp(right))
            }
        }
        return Float(exp((low + high) / 2))
    }
}

public enum ClassifierHeadError: Error, Equatable, CustomStringConvertible {
    case noLabels
    case examplesMismatch(features: Int, labels: Int)
    case inconsistentWidth(example: Int, width: Int, expected: Int)
    case labelOutOfRange(example: Int, label: Int, labelCount: Int)
    case labelWithoutExamples(String)
    case nonFiniteFeature(example: Int)
    /// A head file that is not one, or is cut short; `reason` says what was wrong and where.
    case malformedFile(reason: String)

    public var description: String {
        switch self {
        case .noLabels: return "classifier head: no labels"
        case let .examplesMismatch(features, labels):
            return "classifier head: \(features) feature vectors for \(labels) labels (need one each, at least one)"
        case let .inconsistentWidth(example, width, expected):
            return "classifier head: example \(example) has \(width) features, expected \(expected)"
        case let .labelOutOfRange(example, label, count):
            return "classifier head: example \(example) has label index \(label), outside 0..<\(count)"
        case .labelWithoutExamples(let name): return "classifier head: label \"\(name)\" has no examples"
        case .nonFiniteFeature(let example): return "classifier head: example \(example) has a feature that is not finite"
        case .malformedFile(let reason): return "classifier head file: \(reason)"
        }
    }
}
