import Glibc
import KansoEngine

/// Classification by log-likelihood: every label is scored as a continuation of the rendered
/// prompt, ln p(label | prompt) summed over its tokens, and the probabilities are the softmax of
/// those scores over the labels (so they sum to 1). The prompt is computed once and shared by all
/// labels (`Model.score(continuations:after:)`), and its fixed prefix comes from the prefix cache.
struct LabelScorer {
    let model: Model
    let prefixes: PrefixCacheStore

    struct Outcome {
        var logLikelihoods: [Double]
        var probabilities: [Double]
        var promptTokens: Int
        var reusedPromptTokens: Int
    }

    /// The tokens of each label as it follows the prompt: a space joins them unless the prompt
    /// already ends in white space. Tokenizing prompt+label together and taking the part after the
    /// prompt's tokens keeps the label's tokens the ones the model would see in running text; where
    /// the last prompt token merges with the label, scoring starts at the earliest such point for
    /// every label alike, so the scores stay comparable.
    func score(prompt: PromptText, labels: [String]) throws -> Outcome {
        let tokenizer = model.tokenizer
        let promptTokens = prompt.tokens(tokenizer)
        let separator = prompt.rendered.last.map { $0.isWhitespace } ?? true ? "" : " "
        let joined = labels.map { prompt.tokens(tokenizer, continuation: separator + $0) }
        var shared = promptTokens.count
        for tokens in joined {
            var common = 0
            while common < min(shared, tokens.count), tokens[common] == promptTokens[common] { common += 1 }
            shared = common
        }
        // At least one token (BOS or the first prompt token) stays as context.
        shared = max(1, min(shared, promptTokens.count))
        let continuations = joined.map { Array($0[shared...]) }
        guard continuations.allSatisfy({ !$0.isEmpty }) else {
            throw ModelError.invalidArgument("a label has no tokens after the prompt")
        }
        let longest = continuations.map(\.count).max() ?? 0
        let capacity = shared + longest + 1
        guard capacity <= model.configuration.contextLength else {
            throw TaskError.inputTooLong(tokens: capacity, limit: model.configuration.contextLength)
        }
        let context = Array(promptTokens[..<shared])
        let (cache, reused) = try prefixes.workingCache(for: prompt, tokens: context, capacity: capacity)
        if reused < context.count { _ = try model.evaluate(Array(context[reused...]), in: cache) }
        let scores = try model.score(continuations: continuations, after: cache)
        let totals = scores.map { Double($0.total) }
        let top = totals.max() ?? 0
        let exponentials = totals.map { exp($0 - top) }
        let sum = exponentials.reduce(0, +)
        return Outcome(logLikelihoods: totals, probabilities: exponentials.map { $0 / sum },
                       promptTokens: promptTokens.count, reusedPromptTokens: reused)
    }
}

/// A request the model cannot take as it is.
enum TaskError: Error, CustomStringConvertible {
    case inputTooLong(tokens: Int, limit: Int)
    case inputOverLimit(tokens: Int, limit: Int)
    case emptyInput(field: String)
    case unknownCacheType(String)

    var description: String {
        switch self {
        case .inputTooLong(let tokens, let limit): return "the input needs \(tokens) tokens; the context holds \(limit)"
        case .inputOverLimit(let tokens, let limit):
            return "the text has \(tokens) tokens, more than the agent accepts (max_input_tokens = \(limit)); shorten it, or set truncate = true"
        case .emptyInput(let field): return "\(field) is empty"
        case .unknownCacheType(let name): return "unknown KV cache type \"\(name)\"; expected f16, q8_0 or f32"
        }
    }
}
