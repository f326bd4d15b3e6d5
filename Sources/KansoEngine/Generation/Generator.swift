// Prompt → tokens: evaluates the prompt (reusing whatever prefix the cache already holds), then
// samples one token at a time until the end of generation, the token limit, the context end, or
// the caller says stop. Tokens and their text arrive through a callback or an AsyncThrowingStream.
// Reference: the generation loop of llama2.c run.c `generate`.

import KansoConcurrency
import Dispatch
import Glibc

/// One generated token and the text it completes (empty while a character is split across tokens).
public struct GeneratedToken: Sendable, Equatable {
    public let token: Int32
    public let text: String
    /// ln p(token) under the model's distribution (the raw logits, before the sampler's stages).
    public let logProbability: Float
}

public enum GenerationStopReason: Sendable, Equatable {
    /// The model produced an end-of-generation token (not included in the output).
    case endOfGeneration
    /// `maximumTokens` were produced.
    case maximumTokens
    /// The cache is full.
    case contextFull
    /// The callback returned false, or the stream was cancelled.
    case stopped
}

public struct GenerationResult: Sendable, Equatable {
    public var tokens: [Int32]
    public var text: String
    public var stopReason: GenerationStopReason
    /// Prompt tokens found already computed in the cache.
    public var reusedPromptTokens: Int
    /// Prompt tokens evaluated (the prompt minus the reused prefix).
    public var evaluatedPromptTokens: Int
    /// Wall-clock seconds spent evaluating the prompt, and generating after it.
    public var promptSeconds: Double
    public var generationSeconds: Double
}

public struct Generator: Sendable {
    public let model: Model
    public var sampler: SamplerChain
    public var maximumTokens: Int
    public var stopAtEndOfGeneration: Bool

    public init(model: Model, sampler: SamplerChain, maximumTokens: Int, stopAtEndOfGeneration: Bool = true) {
        self.model = model
        self.sampler = sampler
        self.maximumTokens = maximumTokens
        self.stopAtEndOfGeneration = stopAtEndOfGeneration
    }

    /// Evaluates `prompt` in `cache`, reusing the longest prefix the cache already holds, and
    /// returns the logits after its last token. An empty prompt is an error.
    public static func prefill(_ prompt: [Int32], in cache: KVCache, model: Model) throws -> (logits: [Float], reused: Int) {
        guard !prompt.isEmpty else { throw ModelError.invalidArgument("the prompt has no tokens") }
        // At least the last prompt token is evaluated again, for its logits.
        let reused = cache.reusableLength(of: prompt, atMost: prompt.count - 1)
        try cache.truncate(to: reused)
        let rows = try model.evaluate(Array(prompt[reused...]), in: cache)
        return (rows[rows.count - 1], reused)
    }

    /// Generates after `prompt` (token ids, BOS included if wanted) in `cache`. `onToken` sees each
    /// token as it is sampled and returns false to stop. On return the cache holds the prompt and
    /// every generated token but the last (which was never fed back); a later call with a prompt
    /// that extends this one reuses all of it.
    public mutating func generate(prompt: [Int32], in cache: KVCache,
                                  onToken: (GeneratedToken) throws -> Bool = { _ in true }) throws -> GenerationResult {
        let promptStart = DispatchTime.now().uptimeNanoseconds
        var (logits, reused) = try Self.prefill(prompt, in: cache, model: model)
        let generationStart = DispatchTime.now().uptimeNanoseconds
        var result = GenerationResult(tokens: [], text: "", stopReason: .maximumTokens, reusedPromptTokens: reused,
                                      evaluatedPromptTokens: prompt.count - reused,
                                      promptSeconds: Double(generationStart - promptStart) / 1e9, generationSeconds: 0)
        var assembler = TextAssembler()
        while result.tokens.count < maximumTokens {
            guard let token = sampler.sample(logits: logits, history: cache.tokens) else {
                throw ModelError.invalidArgument("the sampler left no candidate token")
            }
            if stopAtEndOfGeneration && model.tokenizer.isEndOfGeneration(token) {
                result.stopReason = .endOfGeneration
                break
            }
            result.tokens.append(token)
            let text = assembler.append(model.tokenizer.pieceBytes(token))
            result.text += text
            let logProbability = LogProbabilities.logProbability(of: token, logits: logits)
            if try !onToken(GeneratedToken(token: token, text: text, logProbability: logProbability)) {
                result.stopReason = .stopped
                break
            }
            if result.tokens.count == maximumTokens { break }
            guard cache.length < cache.capacity else {
                result.stopReason = .contextFull
                break
            }
            logits = try model.evaluate([token], in: cache)[0]
        }
        result.text += assembler.flush()
        result.generationSeconds = Double(DispatchTime.now().uptimeNanoseconds - generationStart) / 1e9
        return result
    }

    /// Encodes `prompt` (with the model's BOS when it wants one) and generates after it.
    public mutating func generate(prompt: String, in cache: KVCache,
                                  onToken: (GeneratedToken) throws -> Bool = { _ in true }) throws -> GenerationResult {
        let tokens = model.tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
        return try generate(prompt: tokens, in: cache, onToken: onToken)
    }

    /// The tokens of a generation as an asynchronous stream. The computation blocks, so it runs on
    /// a thread of its own rather than on Swift concurrency's cooperative pool; it stops at the
    /// next token when the consumer cancels or stops iterating.
    public func stream(prompt: [Int32], in cache: KVCache) -> AsyncThrowingStream<GeneratedToken, Error> {
        let generator = self
        return AsyncThrowingStream { continuation in
            let cancelled = CancellationFlag()
            continuation.onTermination = { _ in cancelled.set() }
            DetachedThread.start(name: "kanso-generate") {
                var running = generator
                do {
                    _ = try running.generate(prompt: prompt, in: cache) { token in
                        continuation.yield(token)
                        return !cancelled.isSet
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
        }
    }
}

/// A flag set from one thread and read from another.
private final class CancellationFlag: @unchecked Sendable {  // guarded by `lock`
    private let lock = Lock()
    private var value = false
    func set() { lock.lock(); value = true; lock.unlock() }
    var isSet: Bool { lock.lock(); defer { lock.unlock() }; return value }
}
