// Which tokens of a vocabulary keep the output a valid prefix under a grammar state: a token is
// allowed iff all its bytes advance the state; end-of-generation tokens iff the state is
// complete; control, unknown and unused tokens never. Built once per tokenizer (token trie,
// string fast path) and shared by every grammar and request; masks of repeated states are cached.

import KansoConcurrency
import Glibc

public final class TokenMasker: @unchecked Sendable {  // mutable caches are guarded by `lock`
    public let vocabularySize: Int
    /// [vocabularySize] the bytes of each token that text may contain; empty for the others.
    let pieces: [[UInt8]]
    let trie: TokenTrie
    let endOfGeneration: [Int32]
    /// Tokens with bytes that grammar output may use.
    private let eligible: [Int32]

    private let lock = Lock()
    private var stringClasses: [StringTokenClasses?] = Array(repeating: nil, count: StringPhase.subStateCount)
    private var cache: [GrammarState: TokenMask] = [:]
    /// Masks kept before the cache is emptied (each is vocabularySize / 8 bytes).
    public let cacheLimit: Int

    public init(tokenizer: Tokenizer, cacheLimit: Int = 256) {
        vocabularySize = tokenizer.vocabularySize
        self.cacheLimit = cacheLimit
        var pieces: [[UInt8]] = Array(repeating: [], count: vocabularySize)
        var eligible: [Int32] = []
        var endOfGeneration: [Int32] = []
        for token in 0..<Int32(vocabularySize) {
            if tokenizer.isEndOfGeneration(token) {
                endOfGeneration.append(token)
                continue
            }
            switch tokenizer.tokenType(token) {
            case .normal?, .byte?, .userDefined?, .undefined?:
                let bytes = tokenizer.pieceBytes(token)
                guard !bytes.isEmpty else { continue }
                pieces[Int(token)] = bytes
                eligible.append(token)
            default:
                continue
            }
        }
        self.pieces = pieces
        self.eligible = eligible
        self.endOfGeneration = endOfGeneration
        trie = TokenTrie(pieces: eligible.map { ($0, pieces[Int($0)]) })
    }

    /// The tokens that may come next in `state`.
    public func allowedTokens(_ state: GrammarState) -> TokenMask {
        // A grammar bound to a request's text has masks that depend on it and will not come again.
        guard !state.grammar.isBoundToText else { return uncachedMask(state) }
        lock.lock()
        if let cached = cache[state] {
            lock.unlock()
            return cached
        }
        lock.unlock()
        let mask = uncachedMask(state)
        lock.lock()
        if cache.count >= cacheLimit { cache.removeAll(keepingCapacity: true) }
        cache[state] = mask
        lock.unlock()
        return mask
    }

    /// Whether one token may come next (without building a mask).
    public func allows(_ token: Int32, in state: GrammarState) -> Bool {
        guard token >= 0, Int(token) < vocabularySize else { return false }
        if endOfGeneration.contains(token) { return state.isComplete }
        let bytes = pieces[Int(token)]
        return !bytes.isEmpty && state.advanced(by: bytes) != nil
    }

    private func uncachedMask(_ state: GrammarState) -> TokenMask {
        var mask = computeMask(state)
        if state.isComplete {
            for token in endOfGeneration { mask.insert(token) }
        }
        return mask
    }

    private func computeMask(_ state: GrammarState) -> TokenMask {
        if case .string(let rule) = state.grammar.rules[Int(state.top.rule)], state.top.phase == StringPhase.content {
            return stringMask(state, rule)
        }
        var mask = TokenMask(vocabularySize: vocabularySize)
        trie.walk(from: state, { parent, byte in parent.advanced(byte: byte) }, accept: { mask.insert($0) })
        return mask
    }

    /// Inside a free string: the precomputed tokens that stay inside, within the length budget,
    /// and the tokens that close it and whose remaining bytes the grammar takes after it.
    private func stringMask(_ state: GrammarState, _ rule: StringRule) -> TokenMask {
        let classes = stringClasses(for: state.top.subState)
        let started = state.top.count
        let budget = Int(rule.maximumLength) - Int(started)
        var mask = classes.insideTokens(budget: budget)
        var closed = state
        closed.top.phase = StringPhase.closed
        for entry in classes.closing {
            let characters = Int(started) + Int(entry.characters)
            guard Int(entry.characters) <= budget, characters >= Int(rule.minimumLength) else { continue }
            let bytes = pieces[Int(entry.token)]
            var next = closed
            var index = Int(entry.remainderStart)
            while index < bytes.count, next.advance(bytes[index]) { index += 1 }
            if index == bytes.count { mask.insert(entry.token) }
        }
        return mask
    }

    /// The string fast path's classes for a sub-state (tests report their sizes).
    func stringClassesForMeasurement(subState: UInt8) -> StringTokenClasses { stringClasses(for: subState) }

    private func stringClasses(for subState: UInt8) -> StringTokenClasses {
        lock.lock()
        defer { lock.unlock() }
        if let classes = stringClasses[Int(subState)] { return classes }
        let classes = StringTokenClasses(subState: subState, pieces: pieces, eligible: eligible)
        stringClasses[Int(subState)] = classes
        return classes
    }
}
