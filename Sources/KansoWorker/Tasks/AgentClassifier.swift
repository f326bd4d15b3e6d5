import Glibc
import KansoConcurrency
import KansoEngine
import KansoWire

/// A classify request answered the way its agent is made (README "Classification"):
/// - with examples, by the head trained on them (`HeadClassifier`); its probabilities are a
///   softmax over the head's logits divided by a temperature fitted on held-out folds, so the
///   confidence escalation compares is calibrated on the agent's own data;
/// - without, by the label likelihoods (ln p(label | prompt), summed over the label's tokens)
///   with the prompt's own label prior divided out: contextual calibration, the prior measured
///   once per prompt on the content-free inputs "", "N/A" and "[MASK]" in place of the text.
///   Dividing the prior out also removes the advantage a short label's fewer tokens give its sum.
final class AgentClassifier: @unchecked Sendable {  // `calibrations` guarded by `lock`
    private let model: Model
    private let prefixes: PrefixCacheStore
    private let heads: HeadClassifier
    /// The content-free prior of each prompt and label set.
    private var calibrations: [String: ContextualCalibration] = [:]
    private let lock = Lock()

    init(model: Model, prefixes: PrefixCacheStore, cache: PackedWeightCache?, modelPath: String) {
        self.model = model
        self.prefixes = prefixes
        heads = HeadClassifier(model: model, prefixes: prefixes, cache: cache, modelPath: modelPath)
    }

    func classify(prompt: PromptText, labels: [String], examples: [WorkerExample], started: ContinuousClock.Instant) throws -> WorkerClassifyReply {
        if !examples.isEmpty {
            let trained = try heads.head(prompt: prompt, labels: labels, examples: examples)
            let probabilities = try heads.probabilities(trained, prompt: prompt)
            return WorkerClassifyReply(logLikelihoods: probabilities.map { log(max($0, 1e-300)) }, probabilities: probabilities,
                                       promptTokens: prompt.tokens(model.tokenizer).count, reusedPromptTokens: 0,
                                       milliseconds: WorkerService.milliseconds(since: started), answeredBy: "head",
                                       head: "\(trained.feature), \(trained.head.kind), \(trained.origin)")
        }
        let scorer = LabelScorer(model: model, prefixes: prefixes)
        let outcome = try scorer.score(prompt: prompt, labels: labels)
        let calibration = try self.calibration(prompt: prompt, labels: labels, scorer: scorer)
        return WorkerClassifyReply(logLikelihoods: outcome.logLikelihoods,
                                   probabilities: calibration.probabilities(scores: outcome.logLikelihoods),
                                   promptTokens: outcome.promptTokens, reusedPromptTokens: outcome.reusedPromptTokens,
                                   milliseconds: WorkerService.milliseconds(since: started), answeredBy: "calibrated likelihoods")
    }

    private func calibration(prompt: PromptText, labels: [String], scorer: LabelScorer) throws -> ContextualCalibration {
        let key = "\(prompt.chat)\u{0}\(prompt.prefix)\u{0}\(prompt.suffix)\u{0}" + labels.joined(separator: "\u{0}")
        if let known = lock.withLock({ calibrations[key] }) { return known }
        let scores = try ContextualCalibration.contentFreeInputs.map { input in
            var contentFree = prompt
            contentFree.text = input
            return try scorer.score(prompt: contentFree, labels: labels).logLikelihoods
        }
        let calibration = ContextualCalibration(contentFreeScores: scores)
        lock.withLock { calibrations[key] = calibration }
        return calibration
    }
}
