import Glibc
import KansoEngine

/// Next whole words for a predictive keyboard: the most likely tokens after the text, each
/// extended greedily token by token until the word ends (the next token starts with white space
/// or punctuation, or ends generation), all unfinished candidates advanced together in one batch
/// per step. A word's probability is p(first token) × Π p(each greedy continuation token): the
/// probability of the word along its most likely spelling, a lower bound of its total probability.
///
/// What the end of the text asks for:
/// - white space ("The little "): the next word; only tokens that start a word count.
/// - letters with no space after them ("The little do"): the word being typed; every candidate
///   starts with the letters typed ("dog", "door", "do" itself when the model would end it there).
///   The typed letters are taken back out of the prompt and the model spells the whole word, so a
///   token that covers the typed letters and more ("▁dog") is found although the typed text's own
///   tokens ("▁do") would have split it elsewhere.
/// - anything else (punctuation, or a suffix after the request's text such as a chat template's
///   assistant turn): the next word, with or without a space before it.
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
        /// Bytes of the typed letters the word has not covered yet.
        var remaining: ArraySlice<UInt8>
    }

    /// What the first token of a candidate must look like.
    enum WordStart: Equatable {
        /// A new word: the token starts with white space.
        case newWord
        /// The word being typed: (a space, when `spaced`, then) text that agrees with `typed`.
        case completing(typed: [UInt8], spaced: Bool)
        /// Any word, white space before it or not.
        case free
    }

    static func isWordCharacter(_ character: Character) -> Bool {
        character.isLetter || character.isNumber || character == "'"
    }

    /// The prompt the model reads (the typed letters and trailing white space taken out) and what
    /// the candidates' first token must look like.
    static func split(_ prompt: PromptText, addsSpacePrefix: Bool) -> (PromptText, WordStart) {
        guard prompt.suffix.isEmpty else { return (prompt, .free) }
        var context = prompt
        // Tokenizers attach the space to the next word's token ("▁Lily", " Lily"): trailing white
        // space leaves the prompt and goes to the candidates.
        let typed = String(prompt.text.reversed().prefix(while: isWordCharacter).reversed())
        context.text.removeLast(typed.count)
        let beforeSpaces = context.text.count
        while let last = context.text.last, last == " " || last == "\t" { context.text.removeLast() }
        let spaced = context.text.count < beforeSpaces
        if typed.isEmpty { return (context, spaced ? .newWord : .free) }
        // A word at the very start: SentencePiece vocabularies that add a space prefix spell it "▁Word".
        let atStart = context.prefix.isEmpty && context.text.isEmpty
        return (context, .completing(typed: Array(typed.utf8), spaced: spaced || (atStart && addsSpacePrefix)))
    }

    func predict(prompt: PromptText, count: Int) throws -> [(String, Double)] {
        let tokenizer = model.tokenizer
        let (context, start) = Self.split(prompt, addsSpacePrefix: tokenizer.addsSpacePrefix)
        let tokens = context.tokens(tokenizer)
        guard !tokens.isEmpty else { throw TaskError.emptyInput(field: "text") }
        let capacity = tokens.count + maximumExtraTokens + 8
        guard capacity <= model.configuration.contextLength else {
            throw TaskError.inputTooLong(tokens: capacity, limit: model.configuration.contextLength)
        }
        let (base, _) = try prefixes.workingCache(prefix: context.prefixSegment, tokens: tokens, capacity: capacity)
        let (logits, _) = try Generator.prefill(tokens, in: base, model: model)

        var candidates: [Candidate] = []
        for (token, probability) in firstTokens(logits: logits, start: start, count: count) {
            var piece = tokenizer.pieceBytes(token)[...]
            var remaining: ArraySlice<UInt8> = []
            if case .completing(let typed, let spaced) = start {
                if spaced { piece = piece.dropFirst() }
                remaining = typed.starts(with: piece) ? typed[piece.count...] : []
            } else {
                piece = piece.drop { $0 == 0x20 || $0 == 0x09 || $0 == 0x0A }
            }
            let body = String(decoding: piece, as: UTF8.self)
            let letters = String(body.prefix(while: Self.isWordCharacter))
            guard !letters.isEmpty else { continue }
            let cache = model.makeCache(capacity: capacity)
            try cache.copyPrefix(from: base, length: base.length)
            candidates.append(Candidate(cache: cache, word: letters, probability: Double(probability), lastToken: token,
                                        done: letters.count < body.count && remaining.isEmpty, remaining: remaining))
        }
        for _ in 0..<maximumExtraTokens {
            let active = candidates.indices.filter { !candidates[$0].done }
            if active.isEmpty { break }
            let rows = try model.decode(batch: active.map { (candidates[$0].cache, candidates[$0].lastToken) })
            for (row, index) in zip(rows, active) { extend(&candidates[index], row: row) }
        }
        // A candidate still short of the typed letters is no completion of them.
        candidates.removeAll { !$0.remaining.isEmpty }
        // The same word reached through several first tokens: its probabilities add up.
        var byWord: [String: Double] = [:]
        for candidate in candidates { byWord[candidate.word, default: 0] += candidate.probability }
        return byWord.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(count).map { ($0.key, $0.value) }
    }

    /// The most likely first tokens that fit `start`, with their probabilities.
    private func firstTokens(logits: [Float], start: WordStart, count: Int) -> [(Int32, Float)] {
        let tokenizer = model.tokenizer
        func usable(_ token: Int32) -> Bool { !tokenizer.isEndOfGeneration(token) && !tokenizer.isControl(token) }
        guard case .completing(let typed, let spaced) = start else {
            var chosen: [(Int32, Float)] = []
            for (token, probability) in LogProbabilities.top(max(16, count * 4), of: logits) where chosen.count < count * 2 {
                guard usable(token) else { continue }
                let startsWithSpace = tokenizer.withPieceBytes(token) { $0.first == 0x20 || $0.first == 0x09 }
                if start == .newWord && !startsWithSpace { continue }  // it would glue onto the last word
                chosen.append((token, probability))
            }
            return chosen
        }
        // Every token of the vocabulary that agrees with the typed letters: it holds them and maybe
        // more ("▁dog" for "do"), or it is a first part of them ("▁d").
        var matching: [(Int32, Float)] = []
        for token in 0 ..< Int32(logits.count) where usable(token) {
            let agrees = tokenizer.withPieceBytes(token) { bytes -> Bool in
                var body = bytes[...]
                if spaced {
                    guard body.first == 0x20 else { return false }
                    body = body.dropFirst()
                } else if body.first == 0x20 {
                    return false
                }
                return !body.isEmpty && (body.starts(with: typed) || typed.starts(with: body))
            }
            if agrees { matching.append((token, logits[Int(token)])) }
        }
        matching.sort { $0.1 > $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }
        let logSoftmaxShift = Self.logSumExp(logits)
        return matching.prefix(count * 3).map { ($0.0, Float(exp(Double($0.1) - logSoftmaxShift))) }
    }

    /// One step of a candidate: the most likely next token if it continues the word (and, while
    /// typed letters remain, agrees with them).
    private func extend(_ candidate: inout Candidate, row: [Float]) {
        let tokenizer = model.tokenizer
        let probabilities = LogProbabilities.softmax(row)
        var choice: Int32?
        if candidate.remaining.isEmpty {
            choice = Int32(probabilities.indices.max { probabilities[$0] < probabilities[$1] }!)
        } else {
            for (token, _) in LogProbabilities.top(64, of: row) where !tokenizer.isControl(token) && !tokenizer.isEndOfGeneration(token) {
                let piece = tokenizer.pieceBytes(token)
                if !piece.isEmpty, piece.starts(with: candidate.remaining) || candidate.remaining.starts(with: piece) {
                    choice = token
                    break
                }
            }
        }
        guard let token = choice else {
            candidate.done = true
            return
        }
        let pieceBytes = tokenizer.pieceBytes(token)
        let piece = String(decoding: pieceBytes, as: UTF8.self)
        let letters = String(piece.prefix(while: Self.isWordCharacter))
        guard !letters.isEmpty, !tokenizer.isEndOfGeneration(token), !tokenizer.isControl(token) else {
            candidate.done = true
            return
        }
        candidate.word += letters
        candidate.probability *= Double(probabilities[Int(token)])
        candidate.lastToken = token
        candidate.remaining = candidate.remaining.starts(with: pieceBytes) ? candidate.remaining.dropFirst(pieceBytes.count) : []
        candidate.done = letters.count < piece.count && candidate.remaining.isEmpty
    }

    /// ln Σ exp(logits), in Double.
    private static func logSumExp(_ logits: [Float]) -> Double {
        guard let maximum = logits.max() else { return 0 }
        var sum = 0.0
        for value in logits { sum += exp(Double(value - maximum)) }
        return Double(maximum) + log(sum)
    }
}
