// Choosing a head by cross-validation on an agent's examples only (ClassifierHead.crossValidated:
// stratified folds, each example predicted by a head trained on the other folds), across prompt
// forms too, which the engine's ClassifierHead.select (one prompt, the agent's) does not search.

import KansoEngine

/// One way of turning a text into a vector: a prompt plan, a layer, a pooling.
struct FeatureChoice: Hashable {
    let plan: String
    let layer: HiddenLayer
    let pooling: HiddenPooling

    var name: String { "\(plan)/\(layer)/\(pooling.rawValue)" }
}

struct HeadCandidate {
    let feature: FeatureChoice
    let settings: ClassifierHead.Settings

    var name: String {
        switch settings.kind {
        case .logisticRegression: return "\(feature.name)/logistic λ=\(settings.penalty)"
        case .nearestCentroid: return "\(feature.name)/centroid"
        }
    }
}

enum HeadSelection {
    /// Each example's probabilities from a head trained on the other folds (ClassifierHead.crossValidated).
    static func outOfFold(_ vectors: [[Float]], labels: [Int], names: [String], settings: ClassifierHead.Settings,
                          folds count: Int) throws -> [Prediction] {
        let probabilities = try ClassifierHead.crossValidated(features: vectors, labels: labels, labelNames: names,
                                                              settings: settings, folds: count)
        return zip(probabilities, labels).map { Prediction(probabilities: $0, truth: $1) }
    }

    /// The weight w of the head in p ∝ head^w · likelihood^(1−w) that classifies the examples
    /// best (ties: lower log-loss), from 0 to 1 in tenths.
    static func blendWeight(head: [Prediction], likelihood: [Prediction]) -> (weight: Double, accuracy: Double) {
        var best = (weight: 1.0, accuracy: -1.0, loss: Double.infinity)
        for step in 0...10 {
            let weight = Double(step) / 10
            let blended = zip(head, likelihood).map {
                Prediction(probabilities: LabelProbabilities.blend($0.probabilities, $1.probabilities, weight: weight), truth: $0.truth)
            }
            let accuracy = Statistics.accuracy(blended), loss = Statistics.logLoss(blended)
            if accuracy > best.accuracy + 1e-9 || (abs(accuracy - best.accuracy) < 1e-9 && loss < best.loss) {
                best = (weight, accuracy, loss)
            }
        }
        return (best.weight, best.accuracy)
    }
}
