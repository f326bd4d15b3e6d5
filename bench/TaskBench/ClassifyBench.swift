// The classification report of one model: label likelihoods (zero-shot and few-shot prompts,
// three score forms, raw and calibrated), heads on hidden states (every prompt form, layer and
// pooling, chosen by cross-validation on the examples), and their blend; then the choice, made
// on the examples alone, confirmed once on the benchmark, with its calibration and latency.

import Foundation
import KansoEngine

struct ClassifyOptions {
    var folds = 8
    var shotsPerLabel = 2
    var layerStride = 2
    var penalties: [Double] = [0.003, 0.03, 0.3]
}

struct LikelihoodResult {
    let name: String
    let isZeroShot: Bool
    let examples: [Prediction]
    let benchmark: [Prediction]
    let seconds: [Double]
}

struct ClassifyBench {
    let runner: ClassifyRunner
    let modelName: String
    let examples: [ClassifyItem]
    let benchmark: [ClassifyItem]
    let options: ClassifyOptions

    var labels: [String] { runner.labels }
    var hasChatTemplate: Bool { runner.model.tokenizer.tokenID(spelled: "<|im_start|>") != nil }
    var promptForms: [PromptForm] { hasChatTemplate ? [.raw, .chat] : [.raw] }

    func truth(_ items: [ClassifyItem]) -> [Int] { items.map { labels.firstIndex(of: $0.label)! } }

    /// The first `shotsPerLabel` examples of each label, labels taking turns.
    var shots: [ClassifyItem] {
        (0..<options.shotsPerLabel).flatMap { round in
            labels.compactMap { label in examples.filter { $0.label == label }.dropFirst(round).first }
        }
    }

    /// Prints the report; returns the chosen method's benchmark predictions.
    func run() throws -> [Prediction] {
        print("\n## \(modelName): classification (examples \(examples.count), benchmark \(benchmark.count))\n")
        let likelihoods = try runLikelihoods()
        let head = try runHeads()
        return try runChoice(likelihoods: likelihoods, head: head)
    }

    /// Escalation from the first model's chosen method to the second's: tickets under each
    /// confidence threshold take the second model's answer.
    static func printEscalation(from small: (String, [Prediction]), to large: (String, [Prediction])) {
        print("\n## Escalation: \(small.0) answers, \(large.0) takes the tickets under the threshold\n")
        print("| escalate below | escalated | accuracy |")
        print("| ---: | ---: | ---: |")
        for threshold in [0.0, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 1.01] {
            let answers = zip(small.1, large.1).map { $0.confidence < threshold ? $1 : $0 }
            let escalated = small.1.filter { $0.confidence < threshold }.count
            print("| \(threshold > 1 ? "always" : Statistics.format(threshold, 2)) | \(escalated) of \(small.1.count) | \(Statistics.format(Statistics.accuracy(answers))) |")
        }
    }

    // MARK: likelihoods

    func runLikelihoods() throws -> [LikelihoodResult] {
        print("### Label likelihoods\n")
        print("| prompt | prefix tokens | score | calibrated | examples acc | benchmark acc | benchmark log-loss | ECE |")
        print("| --- | ---: | --- | --- | ---: | ---: | ---: | ---: |")
        var results: [LikelihoodResult] = []
        let shotTexts = Set(shots.map(\.text))
        for form in promptForms {
            for shotItems in [[], shots] {
                let plan = PromptPlan.classify(form: form, tokenizer: runner.model.tokenizer, shots: shotItems)
                let kept = examples.filter { !shotItems.isEmpty ? !shotTexts.contains($0.text) : true }
                let exampleScores = try kept.map { try runner.labelScores(plan, text: $0.text).scores }
                var seconds: [Double] = []
                let benchmarkScores = try benchmark.map { item -> [ContinuationScore] in
                    let (scores, time) = try runner.labelScores(plan, text: item.text)
                    seconds.append(time)
                    return scores
                }
                let contentFree = try ContextualCalibration.contentFreeInputs.map { try runner.labelScores(plan, text: $0).scores }
                for scoreForm in LabelScoreForm.allCases {
                    let calibration = ContextualCalibration(contentFreeScores: contentFree.map { $0.map(scoreForm.score) })
                    for calibrated in [false, true] {
                        func predictions(_ scores: [[ContinuationScore]], _ truth: [Int]) -> [Prediction] {
                            zip(scores, truth).map { scores, truth in
                                let values = scores.map(scoreForm.score)
                                let p = calibrated ? calibration.probabilities(scores: values) : LabelProbabilities.softmax(values)
                                return Prediction(probabilities: p, truth: truth)
                            }
                        }
                        let result = LikelihoodResult(name: "\(plan.name)/\(scoreForm.rawValue)\(calibrated ? "/calibrated" : "")",
                                                      isZeroShot: shotItems.isEmpty,
                                                      examples: predictions(exampleScores, truth(kept)),
                                                      benchmark: predictions(benchmarkScores, truth(benchmark)), seconds: seconds)
                        results.append(result)
                        print("| \(plan.name) | \(plan.prefix.count) | \(scoreForm.rawValue) | \(calibrated ? "yes" : "no") | "
                              + "\(Statistics.format(Statistics.accuracy(result.examples))) | \(Statistics.format(Statistics.accuracy(result.benchmark))) | "
                              + "\(Statistics.format(Statistics.logLoss(result.benchmark))) | \(Statistics.format(Statistics.calibrationError(result.benchmark))) |")
                    }
                }
                print("<!-- \(plan.name): label scoring p50 \(milliseconds(seconds, 0.5)) ms, p99 \(milliseconds(seconds, 0.99)) ms -->")
            }
        }
        return results
    }

    // MARK: heads

    struct HeadResult {
        let candidate: HeadCandidate
        let crossValidated: [Prediction]
        let examplesVectors: [[Float]]
        let benchmarkVectors: [[Float]]
    }

    func runHeads() throws -> HeadResult {
        let layerCount = runner.model.configuration.layerCount
        let layers: [HiddenLayer] = stride(from: options.layerStride, through: layerCount, by: options.layerStride).map { .block($0) } + [.finalNorm]
        let poolings = HiddenPooling.allCases
        var vectors: [FeatureChoice: (examples: [[Float]], benchmark: [[Float]])] = [:]
        for form in [PromptForm.bare] + promptForms {
            let plan = PromptPlan.classify(form: form, tokenizer: runner.model.tokenizer, shots: [])
            for (set, items) in [("examples", examples), ("benchmark", benchmark)] {
                for item in items {
                    let computed = try runner.features(plan, text: item.text, layers: layers, poolings: poolings).vectors
                    for (layerIndex, layer) in layers.enumerated() {
                        for (poolIndex, pooling) in poolings.enumerated() {
                            let key = FeatureChoice(plan: plan.name, layer: layer, pooling: pooling)
                            var entry = vectors[key] ?? ([], [])
                            if set == "examples" { entry.examples.append(computed[layerIndex][poolIndex]) } else { entry.benchmark.append(computed[layerIndex][poolIndex]) }
                            vectors[key] = entry
                        }
                    }
                }
            }
        }
        let exampleTruth = truth(examples), benchmarkTruth = truth(benchmark)
        var settingsList = options.penalties.map { ClassifierHead.Settings(kind: .logisticRegression, penalty: $0, calibrationFolds: 0) }
        settingsList.append(ClassifierHead.Settings(kind: .nearestCentroid, calibrationFolds: 0))
        var scored: [(candidate: HeadCandidate, predictions: [Prediction], accuracy: Double, loss: Double)] = []
        for feature in vectors.keys.sorted(by: { $0.name < $1.name }) {
            for settings in settingsList {
                let predictions = try HeadSelection.outOfFold(vectors[feature]!.examples, labels: exampleTruth, names: labels,
                                                              settings: settings, folds: options.folds)
                scored.append((HeadCandidate(feature: feature, settings: settings), predictions,
                               Statistics.accuracy(predictions), Statistics.logLoss(predictions)))
            }
        }
        print("\n### Heads on hidden states: \(options.folds)-fold cross-validated accuracy on the examples (best of the head settings)\n")
        print("| features | " + layers.map(\.description).joined(separator: " | ") + " |")
        print("| --- |" + String(repeating: " ---: |", count: layers.count))
        for form in [PromptForm.bare] + promptForms {
            for pooling in poolings {
                let cells = layers.map { layer -> String in
                    let best = scored.filter { $0.candidate.feature == FeatureChoice(plan: form.rawValue, layer: layer, pooling: pooling) }
                        .map(\.accuracy).max() ?? 0
                    return Statistics.format(best, 2)
                }
                print("| \(form.rawValue)/\(pooling.rawValue) | " + cells.joined(separator: " | ") + " |")
            }
        }
        let ranked = scored.sorted { $0.accuracy != $1.accuracy ? $0.accuracy > $1.accuracy : $0.loss < $1.loss }
        print("\n### The ten best heads by cross-validation (benchmark accuracy shown, not used to choose)\n")
        print("| head | CV acc | CV log-loss (T=1) | benchmark acc |")
        print("| --- | ---: | ---: | ---: |")
        for entry in ranked.prefix(10) {
            let data = vectors[entry.candidate.feature]!
            let head = try ClassifierHead.train(features: data.examples, labels: exampleTruth, labelNames: labels, settings: entry.candidate.settings)
            let benchmarkAccuracy = Statistics.accuracy(zip(data.benchmark, benchmarkTruth).map { Prediction(probabilities: head.probabilities($0), truth: $1) })
            print("| \(entry.candidate.name) | \(Statistics.format(entry.accuracy)) | \(Statistics.format(entry.loss)) | \(Statistics.format(benchmarkAccuracy)) |")
        }
        // The chosen head, its temperature fitted on folds of the examples.
        var settings = ranked[0].candidate.settings
        settings.calibrationFolds = 5
        let chosen = HeadCandidate(feature: ranked[0].candidate.feature, settings: settings)
        let data = vectors[chosen.feature]!
        let crossValidated = try HeadSelection.outOfFold(data.examples, labels: exampleTruth, names: labels, settings: settings, folds: options.folds)
        return HeadResult(candidate: chosen, crossValidated: crossValidated, examplesVectors: data.examples, benchmarkVectors: data.benchmark)
    }

    // MARK: the choice

    func runChoice(likelihoods: [LikelihoodResult], head: HeadResult) throws -> [Prediction] {
        let exampleTruth = truth(examples), benchmarkTruth = truth(benchmark)
        let bestLikelihood = likelihoods.filter(\.isZeroShot).max { Statistics.accuracy($0.examples) < Statistics.accuracy($1.examples) }!
        let trained = try ClassifierHead.train(features: head.examplesVectors, labels: exampleTruth, labelNames: labels, settings: head.candidate.settings)
        let headBenchmark = zip(head.benchmarkVectors, benchmarkTruth).map { Prediction(probabilities: trained.probabilities($0), truth: $1) }
        let (weight, blendCV) = HeadSelection.blendWeight(head: head.crossValidated, likelihood: bestLikelihood.examples)
        let blendBenchmark = zip(headBenchmark, bestLikelihood.benchmark).map {
            Prediction(probabilities: LabelProbabilities.blend($0.probabilities, $1.probabilities, weight: weight), truth: $0.truth)
        }
        // Latency of the head: the chosen layer only (the pass stops there), pooled, through the head.
        let plan = PromptPlan.classify(form: PromptForm(rawValue: head.candidate.feature.plan)!, tokenizer: runner.model.tokenizer, shots: [])
        var headSeconds: [Double] = []
        for item in benchmark {
            let start = nanoseconds()
            let vector = try runner.features(plan, text: item.text, layers: [head.candidate.feature.layer],
                                             poolings: [head.candidate.feature.pooling]).vectors[0][0]
            _ = trained.probabilities(vector)
            headSeconds.append(Double(nanoseconds() - start) / 1e9)
        }
        print("\n### Chosen on the examples, confirmed on the benchmark\n")
        print("| method | examples acc (CV for heads) | benchmark acc | benchmark log-loss | ECE | p50 ms | p99 ms |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        let rows: [(String, Double, [Prediction], [Double])] = [
            ("likelihood \(bestLikelihood.name)", Statistics.accuracy(bestLikelihood.examples), bestLikelihood.benchmark, bestLikelihood.seconds),
            ("head \(head.candidate.name), T=\(Statistics.format(Double(trained.temperature), 2))", Statistics.accuracy(head.crossValidated), headBenchmark, headSeconds),
            ("blend w=\(weight) (head^w · likelihood^(1−w))", blendCV, blendBenchmark, zip(headSeconds, bestLikelihood.seconds).map { $0 + $1 }),
        ]
        for (name, chosenBy, predictions, seconds) in rows {
            print("| \(name) | \(Statistics.format(chosenBy)) | \(Statistics.format(Statistics.accuracy(predictions))) | "
                  + "\(Statistics.format(Statistics.logLoss(predictions))) | \(Statistics.format(Statistics.calibrationError(predictions))) | "
                  + "\(milliseconds(seconds, 0.5)) | \(milliseconds(seconds, 0.99)) |")
        }
        try printSideBySideLatency(head: head.candidate.feature, trained: trained)
        let winner = rows.max { $0.1 < $1.1 }!
        print("\nChosen (best on the examples): \(winner.0)\n")
        print("| confidence | tickets | accuracy | mean confidence |")
        print("| --- | ---: | ---: | ---: |")
        for bucket in Statistics.buckets(winner.2) where bucket.count > 0 {
            print("| \(bucket.range) | \(bucket.count) | \(Statistics.format(bucket.accuracy)) | \(Statistics.format(bucket.confidence)) |")
        }
        let confusion = labels.indices.map { truthIndex in
            labels.indices.map { predicted in winner.2.filter { $0.truth == truthIndex && $0.predicted == predicted }.count }
        }
        print("\nconfusion (rows: truth, columns: predicted \(labels)): \(confusion)")
        for (item, prediction) in zip(benchmark, winner.2) where !prediction.isRight {
            print("  wrong: [\(item.label) → \(labels[prediction.predicted]) \(Statistics.format(prediction.confidence, 2))] \(item.text.prefix(90))")
        }
        return winner.2
    }
}

extension ClassifyBench {
    /// A 40-word ticket.
    static let latencyTicket = "Hello, since the update on Monday the app logs me out every few minutes and then the "
        + "dashboard shows an error when I try to open last month's report. I already reinstalled it twice. Could you "
        + "please check what is going on? Thanks a lot"

    /// The head's answer and today's label scoring (the raw prompt, every label scored) on one
    /// 40-word ticket, alternated for 40 rounds, so the machine's load weighs on both alike.
    func printSideBySideLatency(head feature: FeatureChoice, trained: ClassifierHead) throws {
        let headPlan = PromptPlan.classify(form: PromptForm(rawValue: feature.plan)!, tokenizer: runner.model.tokenizer, shots: [])
        let scoringPlan = PromptPlan.classify(form: .raw, tokenizer: runner.model.tokenizer, shots: [])
        var headSeconds: [Double] = [], scoringSeconds: [Double] = []
        for round in 0..<41 {
            let start = nanoseconds()
            let vector = try runner.features(headPlan, text: Self.latencyTicket, layers: [feature.layer], poolings: [feature.pooling]).vectors[0][0]
            _ = trained.probabilities(vector)
            let middle = nanoseconds()
            _ = try runner.labelScores(scoringPlan, text: Self.latencyTicket)
            if round > 0 {
                headSeconds.append(Double(middle - start) / 1e9)
                scoringSeconds.append(Double(nanoseconds() - middle) / 1e9)
            }
        }
        let words = Self.latencyTicket.split(separator: " ").count
        print("\nA \(words)-word ticket (\(headPlan.tokens(Self.latencyTicket).count) tokens after the prefix), 40 rounds alternated, "
              + "load \(loadAverage()): head p50 \(milliseconds(headSeconds, 0.5)) ms, p99 \(milliseconds(headSeconds, 0.99)) ms; "
              + "label scoring p50 \(milliseconds(scoringSeconds, 0.5)) ms, p99 \(milliseconds(scoringSeconds, 0.99)) ms")
    }
}

func milliseconds(_ seconds: [Double], _ q: Double) -> String { String(format: "%.1f", Statistics.percentile(seconds, q) * 1000) }
