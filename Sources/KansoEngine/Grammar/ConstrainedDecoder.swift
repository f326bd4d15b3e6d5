// Decoding under a schema grammar: before each draw the tokens that would break the output get a
// logit of -infinity (so any sampler chain can follow), the chosen token advances the grammar
// state, and generation ends when the value is complete and the model ends it, or when nothing
// but the end can follow. The finished text is parsed and validated once more as a double-check.
// Every token adds at least one byte, so with a bounded grammar (`maximumByteCount`, see
// SchemaGrammar.Options) and maximumTokens above it, decoding always completes.

import Dispatch
import Glibc

public enum ConstrainedDecodingError: Error, CustomStringConvertible {
    /// The token limit or the context ended before the value was complete.
    case incomplete(text: String, tokenCount: Int)
    /// The caller's callback asked to stop.
    case stopped(text: String)
    /// The grammar allowed no token of the vocabulary here (it lacks the bytes the grammar needs).
    case noAllowedToken(text: String)
    /// The output failed the final validation (a bug in the grammar if it ever happens).
    case invalidOutput(text: String, violations: [SchemaViolation])
    /// The schema copies strings from the text (`x-kanso-from-text`) but the grammar was not
    /// bound to one (`SchemaGrammar.bound(toText:)`).
    case unboundSourceText

    public var description: String {
        switch self {
        case let .incomplete(text, count):
            return "constrained output incomplete after \(count) tokens: \(text)"
        case let .stopped(text):
            return "constrained decoding stopped by the caller after: \(text)"
        case let .noAllowedToken(text):
            return "no token of the vocabulary can continue the constrained output after: \(text)"
        case let .invalidOutput(text, violations):
            return "constrained output \(text) fails its schema: \(violations.map(\.description).joined(separator: "; "))"
        case .unboundSourceText:
            return "the schema copies strings from the text (\(SchemaGrammar.fromTextKeyword)) but no text was bound to its grammar"
        }
    }
}

public struct ConstrainedResult: Sendable {
    public var tokens: [Int32]
    public var text: String
    /// The output parsed (it validates against the grammar's schema).
    public var value: SchemaJSONValue
    public var reusedPromptTokens: Int
    /// Time spent computing token masks, in seconds, and how many masks were computed.
    public var maskSeconds: Double
    public var maskCount: Int
}

public struct ConstrainedDecoder: Sendable {
    public let model: Model
    public let grammar: SchemaGrammar
    public let masker: TokenMasker
    public var sampler: SamplerChain
    public var maximumTokens: Int

    public init(model: Model, grammar: SchemaGrammar, masker: TokenMasker, sampler: SamplerChain, maximumTokens: Int) {
        self.model = model
        self.grammar = grammar
        self.masker = masker
        self.sampler = sampler
        self.maximumTokens = maximumTokens
    }

    /// Sets the logits ([vocabularySize]) of the tokens `state` does not allow to -infinity.
    public static func mask(_ logits: inout [Float], state: GrammarState, masker: TokenMasker) {
        masker.allowedTokens(state).apply(to: &logits)
    }

    /// Generates a value after `prompt` in `cache` (reusing the prefix the cache holds).
    public mutating func decode(prompt: [Int32], in cache: KVCache,
                                onToken: (GeneratedToken) throws -> Bool = { _ in true }) throws -> ConstrainedResult {
        guard grammar.isBoundToText || !grammar.needsSourceText else { throw ConstrainedDecodingError.unboundSourceText }
        var (logits, reused) = try Generator.prefill(prompt, in: cache, model: model)
        var state = grammar.initialState
        var tokens: [Int32] = []
        var bytes: [UInt8] = []
        var assembler = TextAssembler()
        var maskSeconds = 0.0
        var maskCount = 0
        func currentText() -> String { String(decoding: bytes, as: UTF8.self) }
        decoding: while !state.isFinished {
            guard tokens.count < maximumTokens else {
                throw ConstrainedDecodingError.incomplete(text: currentText(), tokenCount: tokens.count)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            let mask = masker.allowedTokens(state)
            mask.apply(to: &logits)
            maskSeconds += Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            maskCount += 1
            guard !mask.isEmpty else { throw ConstrainedDecodingError.noAllowedToken(text: currentText()) }
            var token = sampler.sample(logits: logits, history: cache.tokens) ?? -1
            if !mask.contains(token) {
                // A draw can only land outside the mask by rounding; take the best allowed token.
                token = mask.tokens.max { logits[Int($0)] < logits[Int($1)] }!
            }
            if model.tokenizer.isEndOfGeneration(token) { break decoding }
            let piece = masker.pieces[Int(token)]
            guard let next = state.advanced(by: piece) else {
                throw ConstrainedDecodingError.noAllowedToken(text: currentText())
            }
            state = next
            tokens.append(token)
            bytes += piece
            let logProbability = LogProbabilities.logProbability(of: token, logits: logits)
            let text = assembler.append(piece)
            if try !onToken(GeneratedToken(token: token, text: text, logProbability: logProbability)) {
                throw ConstrainedDecodingError.stopped(text: currentText())
            }
            if state.isFinished { break decoding }
            guard cache.length < cache.capacity else {
                throw ConstrainedDecodingError.incomplete(text: currentText(), tokenCount: tokens.count)
            }
            logits = try model.evaluate([token], in: cache)[0]
        }
        guard state.isComplete else { throw ConstrainedDecodingError.incomplete(text: currentText(), tokenCount: tokens.count) }
        let validator = SchemaValidator(schema: grammar.schema)
        let value: SchemaJSONValue
        do {
            value = try SchemaJSONValue(parsing: bytes)
        } catch {
            throw ConstrainedDecodingError.invalidOutput(
                text: currentText(), violations: [SchemaViolation(instancePointer: "", schemaPointer: "", message: "\(error)")])
        }
        let violations = validator.validate(value)
        guard violations.isEmpty else { throw ConstrainedDecodingError.invalidOutput(text: currentText(), violations: violations) }
        return ConstrainedResult(tokens: tokens, text: currentText(), value: value, reusedPromptTokens: reused,
                                 maskSeconds: maskSeconds, maskCount: maskCount)
    }
}
