import Glibc
import KansoEngine

/// Next whole words for a predictive keyboard, by a small beam search over spellings: the most
/// likely first tokens of a word, each extended by its most likely next tokens while the word goes
/// on, the best few spellings kept per step and advanced together in one batch. A word ends where
/// the next token starts with white space or punctuation or ends generation; its probability is
/// p(its tokens) × p(a word boundary follows), summed over the spellings found (a lower bound of
/// its total probability).
///
/// What the end of the text asks for:
/// - white space ("The little "): the next word; only tokens that start a word count.
/// - letters with no space after them ("The little do"): the word being typed; every candidate
///   starts with the letters typed ("dog", "door", and "do" itself when the model would end it
///   there). The typed letters are taken back out of the prompt and the model spells the whole
///   word, so "▁dog" is found although the typed text's own tokens ("▁do") split it elsewhere.
/// - anything else (punctuation, or a suffix after the request's text such as a chat template's
///   assistant turn): the next word, with or without a space before it.
struct NextWordPredictor {
    let model: Model
    let prefixes: PrefixCacheStore
    /// Tokens a word may take beyond its first.
    var maximumExtraTokens = 4
    /// Next tokens looked at per spelling and step.
    var branching = 16

    private struct Spelling {
        /// The prompt and the spelling's tokens but the last, which the next step feeds.
        var cache: KVCache
        var word: String
        var probability: Double
        var lastToken: Int32
        /// Bytes of the typed letters the spelling has not covered yet.
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
        /// Takes the characters matching `test` off the end of the text, then (once the text is
        /// empty) off the end of the fixed prefix: "named " + "" ends in a space all the same.
        func removeTrailing(_ test: (Character) -> Bool) -> String {
            var removed = ""
            while let last = context.text.last, test(last) { removed.insert(context.text.removeLast(), at: removed.startIndex) }
            if context.text.isEmpty {
                while let last = context.prefix.last, test(last) { removed.insert(context.prefix.removeLast(), at: removed.startIndex) }
            }
            return removed
        }
        // Tokenizers attach the space to the next word's token ("▁Lily", " Lily"): trailing white
        // space leaves the prompt and goes to the candidates.
        let typed = removeTrailing(isWordCharacter)
        let spaced = !removeTrailing { $0 == " " || $0 == "\t" }.isEmpty
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
        let capacity = tokens.count + maximumExtraTokens + 1
        guard capacity <= model.configuration.contextLength else {
            throw TaskError.inputTooLong(tokens: capacity, limit: model.configuration.contextLength)
        }
        let (base, _) = try prefixes.workingCache(for: context, tokens: tokens, capacity: capacity)
        let (logits, _) = try Generator.prefill(tokens, in: base, model: model)
        let width = min(16, max(4, count * 2))

        var finished: [String: Double] = [:]
        var beam: [Spelling] = []
        for (token, probability) in firstTokens(logits: logits, start: start, count: width) {
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
            if letters.count < body.count, remaining.isEmpty {
                finished[letters, default: 0] += Double(probability)  // the token itself ends the word ("▁it.")
                continue
            }
            // Every spelling continues the prompt's cache as a fork: the prompt is never copied.
            let cache = try base.fork(capacity: capacity)
            beam.append(Spelling(cache: cache, word: letters, probability: Double(probability), lastToken: token, remaining: remaining))
        }
        for _ in 0..<maximumExtraTokens where !beam.isEmpty {
            let rows = try model.decode(batch: beam.map { ($0.cache, $0.lastToken) })
            var children: [(parent: Int, child: Spelling)] = []
            for (index, row) in rows.enumerated() {
                let (ended, grown) = step(beam[index], row: row, finished: &finished)
                if ended > 0 { finished[beam[index].word, default: 0] += beam[index].probability * ended }
                children += grown.map { (index, $0) }
            }
            // The best spellings go on, each from its parent's cache: the first child takes it,
            // the others a new fork of the prompt with the parent's own few positions copied.
            children.sort { $0.child.probability > $1.child.probability }
            var taken = Set<Int>()
            var next: [Spelling] = []
            for (parent, var child) in children.prefix(width) {
                child.cache = taken.insert(parent).inserted ? beam[parent].cache : try sibling(of: beam[parent].cache, base: base, capacity: capacity)
                next.append(child)
            }
            beam = next
        }
        // Spellings still going after the last step count as they are.
        for spelling in beam where spelling.remaining.isEmpty { finished[spelling.word, default: 0] += spelling.probability }
        return finished.sorted { $0.value > $1.value || ($0.value == $1.value && $0.key < $1.key) }
            .prefix(count).map { ($0.key, $0.value) }
    }

    /// A fork of the prompt's cache `base` holding what the spelling `cache` (another fork of it)
    /// added: a few positions copied, not the prompt.
    private func sibling(of cache: KVCache, base: KVCache, capacity: Int) throws -> KVCache {
        let copy = try base.fork(capacity: capacity)
        try copy.copyOwnPositions(of: cache)
        return copy
    }

    /// One spelling's likeliest next tokens: the probability that the word ends here (the mass of
    /// word boundaries among them; none while typed letters remain), and the spellings one token
    /// longer. A token that ends the word inside itself ("g," after "do") adds to `finished`.
    private func step(_ spelling: Spelling, row: [Float], finished: inout [String: Double]) -> (ended: Double, grown: [Spelling]) {
        let tokenizer = model.tokenizer
        var ended = 0.0
        var grown: [Spelling] = []
        for (token, probability) in LogProbabilities.top(branching, of: row) {
            let pieceBytes = tokenizer.pieceBytes(token)
            let piece = String(decoding: pieceBytes, as: UTF8.self)
            let letters = String(piece.prefix(while: Self.isWordCharacter))
            let boundary = letters.isEmpty || tokenizer.isEndOfGeneration(token) || tokenizer.isControl(token)
            if !spelling.remaining.isEmpty {
                // Still inside the typed letters: only tokens that agree with them.
                guard !boundary, pieceBytes.starts(with: spelling.remaining) || spelling.remaining.starts(with: pieceBytes) else { continue }
            } else if boundary {
                ended += Double(probability)
                continue
            }
            var child = spelling
            child.word += letters
            child.probability *= Double(probability)
            child.lastToken = token
            child.remaining = spelling.remaining.starts(with: pieceBytes) ? spelling.remaining.dropFirst(pieceBytes.count) : []
            if letters.count < piece.count, child.remaining.isEmpty {
                finished[child.word, default: 0] += child.probability
            } else {
                grown.append(child)
            }
        }
        return (ended, grown)
    }

    /// The most likely first tokens that fit `start`, with their probabilities.
    private func firstTokens(logits: [Float], start: WordStart, count: Int) -> [(Int32, Float)] {
        let tokenizer = model.tokenizer
        func usable(_ token: Int32) -> Bool { !tokenizer.isEndOfGeneration(token) && !tokenizer.isControl(token) }
        guard case .completing(let typed, let spaced) = start else {
            var chosen: [(Int32, Float)] = []
            for (token, probability) in LogProbabilities.top(count * 2, of: logits) where chosen.count < count {
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
        let shift = Self.logSumExp(logits)
        return matching.prefix(count).map { ($0.0, Float(exp(Double($0.1) - shift))) }
    }

    /// ln Σ exp(logits), in Double.
    private static func logSumExp(_ logits: [Float]) -> Double {
        guard let maximum = logits.max() else { return 0 }
        var sum = 0.0
        for value in logits { sum += exp(Double(value - maximum)) }
        return Double(maximum) + log(sum)
    }
}
