// Strings copied from the request's text (`"x-kanso-from-text": true`): the index accepts exactly
// the substrings of its text, the grammar exactly the spans (no escapes, no space at either end,
// whole characters, within the length bounds), masks equal the token-by-token check on real
// vocabularies, and a real model decoding under it can only write spans of the text.

import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

struct GrammarSpanTests {
    static let schema = #"""
        {"type":"object","properties":{
          "name":{"type":"string","x-kanso-from-text":true,"maxLength":24},
          "email":{"type":"string","x-kanso-from-text":true,"minLength":1},
          "role":{"enum":["sales","other"]}},
         "required":["name","email"]}
        """#
    static let text = "Contact: Ada Lovelace <ada@example.org>, Müller Bau \"quoted\" a\\b"

    /// The substrings of `text` that start and end at boundaries.
    static func spans(of text: [UInt8], boundaries: TextSpanIndex.Boundaries) -> Set<[UInt8]> {
        var all = Set<[UInt8]>()
        for start in text.indices where boundaries.isBoundary(text, start) {
            for end in start...text.count where boundaries.isBoundary(text, end) { all.insert(Array(text[start..<end])) }
        }
        return all
    }

    @Test func boundariesAreBetweenWords() {
        let text = Array("Ada Lovelace, ada@ex.org. Bye".utf8)
        let words = (0...text.count).filter { TextSpanIndex.Boundaries.words.isBoundary(text, $0) }
        #expect(words == [0, 3, 4, 12, 13, 14, 17, 18, 20, 21, 24, 25, 26, 29])
        let addresses = (0...text.count).filter { TextSpanIndex.Boundaries.addresses.isBoundary(text, $0) }
        #expect(addresses == [0, 3, 4, 12, 13, 14, 24, 25, 26, 29])
    }

    @Test(arguments: [TextSpanIndex.Boundaries.words, .addresses])
    func theIndexAcceptsExactlyTheWholeWordSpans(boundaries: TextSpanIndex.Boundaries) {
        var random = SplitMix64(seed: 5)
        let alphabet = Array("ab c.@".utf8)
        for _ in 0..<40 {
            let text = (0..<(1 + random.next(below: 30))).map { _ in alphabet[random.next(below: alphabet.count)] }
            let index = TextSpanIndex(bytes: text, boundaries: boundaries)
            // An address index is exact for what an e-mail span can be: no space, no final dot
            // (TextSpanIndex.child: the way over a sentence's dot is not followed).
            let possible: ([UInt8]) -> Bool = boundaries == .words ? { _ in true } : { !$0.contains(0x20) && $0.last != 0x2E }
            let spans = Self.spans(of: text, boundaries: boundaries).filter(possible)
            #expect(index.stateCount <= 2 * (2 * text.count + 2))
            for candidate in spans { #expect(index.containsSpan(candidate), "\(candidate) in \(text)") }
            for _ in 0..<300 {
                let candidate = (0..<(1 + random.next(below: 8))).map { _ in alphabet[random.next(below: alphabet.count)] }
                guard possible(candidate) else { continue }
                #expect(index.containsSpan(candidate) == spans.contains(candidate), "\(candidate) in \(text)")
            }
        }
    }

    func accepts(_ grammar: SchemaGrammar, name: [UInt8], email: String = "ada@example.org") -> Bool {
        grammar.accepts(Array(#"{"name":""#.utf8) + name + Array(#"","email":"\#(email)"}"#.utf8))
    }

    @Test func theGrammarAcceptsExactlyTheSpans() throws {
        let grammar = try SchemaGrammar(schemaText: Self.schema).bound(toText: Self.text)
        let bytes = Array(Self.text.utf8)
        let escaped = Set(Array("\"\\".utf8))
        for candidate in Self.spans(of: bytes, boundaries: .words) {
            let characters = String(decoding: candidate, as: UTF8.self)
            let expected = !candidate.contains(where: escaped.contains) && candidate.first != 0x20 && candidate.last != 0x20
                && characters.unicodeScalars.count <= 24
            #expect(accepts(grammar, name: candidate) == expected, "\(characters)")
        }
        #expect(accepts(grammar, name: Array("Ada Lovelace".utf8)))
        #expect(accepts(grammar, name: Array("Müller".utf8)))
        #expect(accepts(grammar, name: Array("<ada@example.org>".utf8)))
        #expect(!accepts(grammar, name: Array("Lovel".utf8)))                    // cuts a word
        #expect(!accepts(grammar, name: Array("ovelace".utf8)))
        #expect(!accepts(grammar, name: Array("Ada Byron".utf8)))
        #expect(!accepts(grammar, name: Array("ada lovelace".utf8)))
        #expect(!accepts(grammar, name: [0x4D, 0xC3]))                         // "M" and half of "ü"
        #expect(!accepts(grammar, name: Array("Ada".utf8), email: "ada@example.com"))
        #expect(!accepts(grammar, name: Array("Ada".utf8), email: ""))          // email has minLength 1
        #expect(accepts(grammar, name: []))                                     // name may be empty
        #expect(grammar.accepts(Array(#"{"name":"Ada","email":"Ada","role":"sales"}"#.utf8)))
        #expect(!grammar.accepts(Array(#"{"name":"Ada","email":"Ada","role":"Ada"}"#.utf8)))
    }

    @Test func lengthBoundsCountCharacters() throws {
        let grammar = try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":true,"minLength":1,"maxLength":3}"#)
            .bound(toText: "ab cdé fghi")
        #expect(grammar.accepts(Array(#""ab""#.utf8)))
        #expect(grammar.accepts(Array(#""cdé""#.utf8)))
        #expect(!grammar.accepts(Array(#""fghi""#.utf8)))
        #expect(!grammar.accepts(Array(#""ab cdé""#.utf8)))
        #expect(!grammar.accepts(Array(#""""#.utf8)))
        #expect(grammar.maximumByteCount == 1 + 2 + 4 * 3)
    }

    /// Random texts over a small alphabet with spaces, quotes, newlines, `@`, `.` and a two-byte
    /// letter; random walks that take any allowed byte must always be able to go on, and end.
    @Test(arguments: [false, true])
    func walksNeverReachADeadEnd(email: Bool) throws {
        var random = SplitMix64(seed: email ? 11 : 12)
        let alphabet: [[UInt8]] = ["a", "b", " ", "@", ".", "\"", "\n", "é", "-"].map { Array($0.utf8) }
        for round in 0..<300 {
            let text = (0..<random.next(below: 24)).flatMap { _ in alphabet[random.next(below: alphabet.count)] }
            let maximum = 1 + random.next(below: 6), minimum = random.next(below: 2)
            let schema = #"{"type":"string","x-kanso-from-text":true,"minLength":\#(minimum),"maxLength":\#(maximum)"#
                + (email ? #","format":"email"}"# : "}")
            let grammar = try SchemaGrammar(schemaText: schema).bound(toText: String(decoding: text, as: UTF8.self))
            var state = grammar.initialState
            var written: [UInt8] = []
            var steps = 0
            while !state.isComplete && steps < 64 {
                let allowed = state.allowedBytes
                if allowed.isEmpty {
                    // Only the opening quote may be refused: no span of the text fits at all.
                    #expect(written.isEmpty, "dead end after \(written) in \(text), round \(round)")
                    break
                }
                let byte = allowed[random.next(below: allowed.count)]
                state = try #require(state.advanced(byte: byte))
                written.append(byte)
                steps += 1
            }
            #expect(state.isComplete || written.isEmpty, "unfinished \(written) in \(text), round \(round)")
        }
    }

    @Test func aSpanThatCannotEndWellIsRefusedAtOnce() throws {
        // "Marco" occurs, but not followed by an address: an e-mail span cannot start with it.
        let grammar = try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":true,"format":"email"}"#)
            .bound(toText: "Marco Rossi | marco@rossifigli.it")
        let open = try #require(grammar.initialState.advanced(by: Array(#"""#.utf8)))
        #expect(open.advanced(by: Array("Marco".utf8)) == nil)
        #expect(open.advanced(by: Array("marco".utf8)) != nil)
        // A plain span cannot run into a trailing space before a newline.
        let plain = try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":true}"#).bound(toText: "Regards, \nAda")
        #expect(plain.initialState.advanced(by: Array(#""Regards, "#.utf8)) == nil)
        #expect(plain.initialState.advanced(by: Array(#""Regards,"#.utf8)) != nil)
    }

    @Test func anUnboundGrammarCopiesNothing() throws {
        let grammar = try SchemaGrammar(schemaText: Self.schema)
        #expect(grammar.needsSourceText && !grammar.isBoundToText)
        #expect(!accepts(grammar, name: Array("Ada".utf8)))
        #expect(!grammar.accepts(Array(#"{"name":"","email":"a"}"#.utf8)))
        let plain = try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":false}"#)
        #expect(!plain.needsSourceText && plain.accepts(Array(#""anything""#.utf8)))
    }

    @Test func anEmailSpanIsAnAddressOrNothing() throws {
        let grammar = try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":true,"format":"email"}"#)
            .bound(toText: "Mail ada.l@example.org or bob@test.co. Lovelace@ home")
        for good in ["ada.l@example.org", "bob@test.co", ""] {   // the sentence's dot is not the address's
            #expect(grammar.accepts(Array("\"\(good)\"".utf8)), "\(good)")
        }
        for bad in ["Mail ada.l@example.org", "ada.l@", "example.org", "bob@test.co.", "@example.org", "ada.l", "Lovelace@", "or",
                    "l@example.org", "ada.l@ex", "ada.l@example"] {
            #expect(!grammar.accepts(Array("\"\(bad)\"".utf8)), "\(bad)")
        }
    }

    @Test func misplacedKeywordsAreErrors() {
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":"yes"}"#) }
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"integer","x-kanso-from-text":true}"#) }
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"string","format":"email"}"#) }
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":true,"minLength":2}"#) }
        #expect(throws: GrammarError.self) { try SchemaGrammar(schemaText: #"{"type":"string","x-kanso-from-text":true,"format":"uri"}"#) }
    }

    @Test(.enabled(if: GrammarVocabularies.available, Comment(rawValue: SharedData.missingMessage("vocab/ggml-vocab-qwen2.gguf"))),
          arguments: GrammarVocabularies.names)
    func masksEqualTheTokenByTokenCheck(vocabulary: String) throws {
        let (tokenizer, masker) = try GrammarVocabularies.load(vocabulary)
        let grammar = try SchemaGrammar(schemaText: Self.schema).bound(toText: Self.text)
        let prefixes = ["{", #"{"name":"#, #"{"name":""#, #"{"name":"Ad"#, #"{"name":"Ada "#, #"{"name":"Ada Lovelace"#,
                        #"{"name":"M"#, #"{"name":"","email":"#, #"{"name":"","email":"ada@"#]
        for prefix in prefixes {
            let state = try #require(grammar.initialState.advanced(by: Array(prefix.utf8)), "prefix \(prefix)")
            let mask = masker.allowedTokens(state)
            var expected = TokenMask(vocabularySize: tokenizer.vocabularySize)
            for token in 0..<Int32(tokenizer.vocabularySize) where masker.allows(token, in: state) { expected.insert(token) }
            #expect(mask == expected, "prefix \(prefix): \(mask.count) allowed, expected \(expected.count)")
            #expect(!mask.isEmpty, "prefix \(prefix) allows nothing")
        }
        // Inside a span only a few tokens are allowed, not the vocabulary.
        let inside = try #require(grammar.initialState.advanced(by: Array(#"{"name":"Ada"#.utf8)))
        #expect(masker.allowedTokens(inside).count < 100)
    }

    @Test(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
    func aRealModelCanOnlyCopy() throws {
        let url = try #require(SharedData.stories260K)
        let model = try Model(path: url.path, threads: 1, contextLength: 512)
        let masker = TokenMasker(tokenizer: model.tokenizer)
        let text = "Lily and Tom went to the park with their dog Max."
        let schema = #"{"type":"object","properties":{"hero":{"type":"string","x-kanso-from-text":true,"maxLength":20},"#
            + #""place":{"type":"string","x-kanso-from-text":true,"maxLength":20}},"required":["hero","place"]}"#
        let grammar = try SchemaGrammar(schemaText: schema)
        let prompt = model.tokenizer.encode("Once upon a time, " + text, addSpecial: true, parseSpecial: false)
        var unbound = ConstrainedDecoder(model: model, grammar: grammar, masker: masker, sampler: SamplerChain(settings: .greedy),
                                         maximumTokens: 120)
        #expect(throws: ConstrainedDecodingError.self) { try unbound.decode(prompt: prompt, in: model.makeCache()) }
        for seed in UInt64(1)...4 {
            var decoder = ConstrainedDecoder(model: model, grammar: grammar.bound(toText: text), masker: masker,
                                             sampler: SamplerChain(settings: SamplingSettings(temperature: 1, topK: 0, topP: 1, minP: 0, seed: seed)),
                                             maximumTokens: 120)
            let result = try decoder.decode(prompt: prompt, in: model.makeCache())
            guard case .object(let members) = result.value else { Issue.record("not an object: \(result.text)"); continue }
            for member in members {
                guard case .string(let value) = member.value else { Issue.record("\(member.key) is not a string"); continue }
                #expect(value.isEmpty || text.contains(value), "\(member.key) = \(value)")
            }
        }
    }
}
