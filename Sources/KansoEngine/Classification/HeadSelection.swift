// Choosing where a head reads the model (which block, which pooling) and how it is fitted, by
// cross-validation on the agent's examples alone: stratified folds, each example predicted by a
// head trained on the other folds; the candidate that classifies the most examples right wins
// (ties: the lower log-loss, then the earlier block, which is cheaper to compute). Every
// candidate's vectors come from one pass per example (Model.hiddenStates with several layers),
// so choosing costs trainings, not passes.
//
// Use:
//   let choice = try ClassifierHead.select(features: [HeadFeature: [[Float]]], labels: exampleLabels,
//                                          labelNames: labels)
//   choice.feature        // e.g. block 24, mean: what each request computes
//   choice.head           // trained on every example, temperature fitted

import Glibc

/// Where a head reads a text's representation.
public struct HeadFeature: Hashable, Sendable, CustomStringConvertible {
    public let layer: HiddenLayer
    public let pooling: HiddenPooling

    public init(layer: HiddenLayer, pooling: HiddenPooling) {
        self.layer = layer
        self.pooling = pooling
    }

    public var description: String { "\(layer)/\(pooling.rawValue)" }

    /// Every other block from the second and the final norm, each pooled both ways: the
    /// candidates a model with `layerCount` blocks is searched over.
    public static func candidates(layerCount: Int, stride step: Int = 2) -> [HeadFeature] {
        let layers = Swift.stride(from: step, through: layerCount, by: step).map { HiddenLayer.block($0) } + [.finalNorm]
        return layers.flatMap { layer in HiddenPooling.allCases.map { HeadFeature(layer: layer, pooling: $0) } }
    }

    /// Blocks a pass must run to read this feature.
    func blocks(of layerCount: Int) -> Int {
        if case .block(let n) = layer { return n }
        return layerCount + 1
    }
}

extension ClassifierHead {
    public struct Selection: Sendable {
        public let feature: HeadFeature
        public let settings: Settings
        /// Share of the examples the chosen candidate classified right when held out.
        public let crossValidatedAccuracy: Double
        /// Trained on every example, temperature fitted.
        public let head: ClassifierHead
    }

    /// The settings searched by default: the logistic regression at three penalties and the centroid rule.
    public static let candidateSettings: [Settings] = [0.003, 0.03, 0.3].map { Settings(kind: .logisticRegression, penalty: $0) }
        + [Settings(kind: .nearestCentroid)]

    /// Each example's probabilities [N][K] from a head trained on the other folds with `settings`.
    public static func crossValidated(features: [[Float]], labels: [Int], labelNames: [String], settings: Settings,
                                      folds: Int) throws -> [[Double]] {
        let fold = foldOfEach(labels, folds: folds)
        var result = [[Double]](repeating: [], count: labels.count)
        for f in 0..<folds {
            let training = labels.indices.filter { fold[$0] != f }
            guard training.count < labels.count else { continue }
            let head = try train(features: training.map { features[$0] }, labels: training.map { labels[$0] },
                                 labelNames: labelNames, settings: settings)
            for index in labels.indices where fold[index] == f { result[index] = head.probabilities(features[index]) }
        }
        return result
    }

    /// The candidate (feature × settings) that classifies the held-out examples best, trained on all.
    public static func select(features: [HeadFeature: [[Float]]], labels: [Int], labelNames: [String],
                              settings candidates: [Settings] = candidateSettings, folds: Int = 5) throws -> Selection {
        let layerCount = features.keys.compactMap { if case .block(let n) = $0.layer { return n } else { return nil } }.max() ?? 0
        var best: (feature: HeadFeature, settings: Settings, accuracy: Double, loss: Double)?
        for feature in features.keys.sorted(by: { ($0.blocks(of: layerCount), $0.pooling.rawValue) < ($1.blocks(of: layerCount), $1.pooling.rawValue) }) {
            for settings in candidates {
                // Ranked without the temperature (it changes no answer; fitting it in every fold would cost 5×).
                var uncalibrated = settings
                uncalibrated.calibrationFolds = 0
                let probabilities = try crossValidated(features: features[feature]!, labels: labels, labelNames: labelNames,
                                                       settings: uncalibrated, folds: folds)
                var right = 0, loss = 0.0
                for (p, label) in zip(probabilities, labels) {
                    if p.indices.max(by: { p[$0] < p[$1] }) == label { right += 1 }
                    loss -= log(max(p[label], 1e-12))
                }
                let accuracy = Double(right) / Double(labels.count)
                // Strictly better only: among equals the earlier (cheaper) candidate stays.
                if best == nil || accuracy > best!.accuracy + 1e-9 || (abs(accuracy - best!.accuracy) < 1e-9 && loss < best!.loss - 1e-9) {
                    best = (feature, settings, accuracy, loss)
                }
            }
        }
        guard let best else { throw ClassifierHeadError.examplesMismatch(features: 0, labels: labels.count) }
        let head = try train(features: features[best.feature]!, labels: labels, labelNames: labelNames, settings: best.settings)
        return Selection(feature: best.feature, settings: best.settings, crossValidatedAccuracy: best.accuracy, head: head)
    }

    /// Fold of each example: dealt round-robin within each label, so every fold has every label when it can.
    static func foldOfEach(_ labels: [Int], folds: Int) -> [Int] {
        var seen: [Int: Int] = [:]
        return labels.map { label in
            defer { seen[label, default: 0] += 1 }
            return seen[label, default: 0] % max(folds, 1)
        }
    }
}

