// A grammar as a sampler stage: put first in a SamplerChain, it keeps only the tokens the grammar
// state allows and follows the chosen token, so Generator's ordinary loop decodes under a schema
// (it stops at the end-of-generation token, the only one allowed once the value is finished).

public struct GrammarSamplerStage: SamplerStage {
    public private(set) var state: GrammarState
    public let masker: TokenMasker

    public init(grammar: SchemaGrammar, masker: TokenMasker) {
        state = grammar.initialState
        self.masker = masker
    }

    public func apply(to candidates: inout TokenCandidates, history: [Int32]) {
        let mask = masker.allowedTokens(state)
        if candidates.isVocabularyOrder {
            let allowed = mask.tokens.filter { Int($0) < candidates.count }
            candidates = TokenCandidates(tokens: allowed, logits: allowed.map { candidates.logits[Int($0)] })
        } else {
            var tokens: [Int32] = [], logits: [Float] = []
            for index in candidates.tokens.indices where mask.contains(candidates.tokens[index]) {
                tokens.append(candidates.tokens[index])
                logits.append(candidates.logits[index])
            }
            candidates = TokenCandidates(tokens: tokens, logits: logits, isSorted: candidates.isSorted)
        }
    }

    public mutating func accept(_ token: Int32) {
        guard token >= 0, Int(token) < masker.pieces.count else { return }
        if let next = state.advanced(by: masker.pieces[Int(token)]) { state = next }
    }
}
