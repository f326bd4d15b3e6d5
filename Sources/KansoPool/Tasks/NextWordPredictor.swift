import Glibc
import KansoEngine

/// Next whole words for a predictive keyboard: the most likely tokens after the text, each
/// extended greedily token by token until the word ends (the next token starts with white space
/// or punctuation, or ends generation), all unfinished candidates advanced together in one batch
/// per step. A word's probability is p(first token) × Π p(each greedy continuation token): the
/// probability of the word along its most likely spelling, a lower bound of its total probability.
/// Text that ends inside a word ("Once upon a ti") gets completions of that word, the word as
/// typed among them (with the probability that the model ends it there).
struct NextWordPredictor {
    let model: Model
    let prefixes: PrefixCacheStore
    /// Tokens a word may take beyond its first.
    var maximumExtraTokens = 4

    private struct Candidate {
        var cache: KVCache
        var word: String
        var probability: Double
        var lastToken: Int32
        var done: Bool
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "'"
    }

    func predict(prompt text: String, prefixText: String, count: Int) throws -> [(String, Double)] {
        let tokenizer = model.tokenizer
        // Text ending in a space asks for the next word. Tokenizers attach the space to the next
        // word's token ("▁Lily", " Lily"), so the space is dropped from the prompt and only
        // candidates that start with one count.
        var prompt = text
        while let last = prompt.last, last == " " || last == "\t" { prompt.removeLast() }
        let wantsNewWord = prompt.count < text.count
        let tokens = tokenizer.encode(prompt, addSpecial: true, parseSpecial: false)
        let capacity = tokens.count + maximumExtraTokens + 1
        guard capacity <= model.configuration.contextLength else {
            throw TaskError.inputTooLong(tokens: capacity, limit: model.configuration.contextLength)
        }
        let (base, _) = try prefixes.workingCache(prefixText: prefixText, tokens: tokens, capacity: capacity)
        let (logits, _) = try Generator.prefill(tokens, in: base, model: model)
        // Text ending in a letter is a word being typed: candidates complete it.
        let partial = wantsNewWord ? "" : String(prompt.reversed().prefix(while: Self.isWordCharacter).reversed())

        var candidates: [Candidate] = []
        for (token, probability) in LogProbabilities.top(max(16, count * 4), of: logits) where candidates.count < count * 2 {
            if tokenizer.isEndOfGeneration(token) || tokenizer.isControl(token) { continue }
            let piece = String(decoding: tokenizer.pieceBytes(token), as: UTF8.self)
            let startsWord = piece.first?.isWhitespace ?? false
            if !partial.isEmpty && (startsWord || !(piece.first.map(Self.isWordCharacter) ?? false)) {
                // The model ends the word being typed here: the word as typed is a candidate.
                candidates.append(Candidate(cache: base, word: partial, probability: Double(probability), lastToken: token, done: true))
                continue
            }
            if wantsNewWord && !startsWord { continue }  // it would glue onto the last word
            let body = piece.drop { $0.isWhitespace }
            let letters = String(body.prefix(while: Self.isWordCharacter))
            guard !letters.isEmpty else { continue }
            let cache = try base.fork(capacity: capacity)
            candidates.append(Candidate(cache: cache, word: partial + letters, probability: Double(probability),
                                        lastToken: token, done: letters.count < body.count))
        }
        for _ in 0..<maximumExtraTokens {
            let active = candidates.indices.filter { !candidates[$0].done }
            if active.isEmpty { break }
            let choices = try model.decodeMostLikely(batch: active.map { (candidates[$0].cache, candidates[$0].lastToken) })
            for ((token, probability), index) in zip(choices, active) {
                let piece = String(decoding: tokenizer.pieceBytes(token), as: UTF8.self)
                let letters = String(piece.prefix(while: Self.isWordCharacter))
                guard !letters.isEmpty, !tokenizer.isEndOfGeneration(token), !tokenizer.isControl(token) else {
                    candidates[index].done = true
                    continue
                }
                candidates[index].word += letters
                candidates[index].probability *= Double(probability)
                candidates[index].lastToken = token
                candidates[index].done = letters.count < piece.count
            }
        }
        // The same word reached through several first tokens: its probabilities add up.
        var byWord: [String: Double] = [:]
        for candidate in candidates { byWord[candidate.word, default: 0] += candidate.probability }
        return byWord.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(count).map { ($0.key, $0.value) }
    }
}
