// Token masks over real vocabularies (../shared/vocab): the trie walk and the string fast path
// must allow exactly the tokens whose bytes advance the state; and random walks that pick any
// allowed token (what an arbitrary model could do) always end within the schema's byte bound,
// in JSON that parses and validates.

import KansoGGUF
import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

/// Each vocabulary's tokenizer and masker, built once per test run.
enum GrammarVocabularies {
    static let names = ["qwen2", "llama-spm"]
    private static let lock = NSLock()
    nonisolated(unsafe) private static var loaded: [String: (Tokenizer, TokenMasker)] = [:]

    static var available: Bool {
        names.allSatisfy { SharedData.file("vocab/ggml-vocab-\($0).gguf") != nil }
    }

    static func load(_ name: String) throws -> (tokenizer: Tokenizer, masker: TokenMasker) {
        lock.lock()
        defer { lock.unlock() }
        if let entry = loaded[name] { return entry }
        let url = try #require(SharedData.file("vocab/ggml-vocab-\(name).gguf"))
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: url.path))
        let entry = (tokenizer, TokenMasker(tokenizer: tokenizer))
        loaded[name] = entry
        return entry
    }
}

@Suite(.enabled(if: GrammarVocabularies.available, Comment(rawValue: SharedData.missingMessage("vocab/ggml-vocab-qwen2.gguf"))))
struct GrammarMaskTests {
    static let schema = #"""
        {"type":"object","properties":{
          "name":{"type":"string","maxLength":12},
          "mood":{"enum":["happy","sad"]},
          "age":{"type":"integer","minimum":0,"maximum":120},
          "tags":{"type":"array","items":{"type":"string","maxLength":4},"maxItems":2},
          "ok":{"type":"boolean"}},
         "required":["name","ok"]}
        """#

    /// Prefixes that put the top frame in each kind of place (string content of several sub-states,
    /// keys, numbers, after values, inside nested arrays).
    static let prefixes: [[UInt8]] = ["", "{", #"{ ""#, #"{"name"#, #"{"name":"#, #"{"name": "Bo"#, #"{"name":"\"#,
                                      #"{"name":"\u00"#, #"{"name":"abcdefghijkl"#, #"{"name":"x","#, #"{"name":"x","age":1"#,
                                      #"{"name":"x","tags":["a","#, #"{"name":"x","ok":true"#, #"{"name":"x","ok":true}"#]
        .map { Array($0.utf8) } + [Array(#"{"name":""#.utf8) + [0xE2], Array(#"{"name":"ab"#.utf8) + [0xF0, 0x9F]]

    @Test(arguments: GrammarVocabularies.names)
    func maskEqualsTokenByTokenCheck(vocabulary: String) throws {
        let (tokenizer, masker) = try GrammarVocabularies.load(vocabulary)
        let grammar = try SchemaGrammar(schemaText: Self.schema)
        for prefix in Self.prefixes {
            let state = try #require(grammar.initialState.advanced(by: prefix), "prefix \(prefix)")
            let mask = masker.allowedTokens(state)
            var expected = TokenMask(vocabularySize: tokenizer.vocabularySize)
            for token in 0..<Int32(tokenizer.vocabularySize) where masker.allows(token, in: state) { expected.insert(token) }
            #expect(mask == expected, "prefix \(prefix): \(mask.count) allowed, expected \(expected.count)")
            #expect(!mask.isEmpty, "prefix \(prefix) allows nothing")
            // Cached masks are the same.
            #expect(masker.allowedTokens(state) == mask)
        }
    }

    @Test(arguments: GrammarVocabularies.names)
    func endOfGenerationOnlyWhenCompleteAndControlTokensNever(vocabulary: String) throws {
        let (tokenizer, masker) = try GrammarVocabularies.load(vocabulary)
        let grammar = try SchemaGrammar(schemaText: #"{"type":"integer","maximum":50}"#)
        let eos = try #require(tokenizer.eos)
        let start = masker.allowedTokens(grammar.initialState)
        #expect(!start.contains(eos))
        let five = try #require(grammar.initialState.advanced(by: Array("5".utf8)))
        let afterFive = masker.allowedTokens(five)
        #expect(afterFive.contains(eos))
        // 50 is allowed, 51 to 59 are not; nothing else follows a digit.
        for token in afterFive.tokens where !tokenizer.isEndOfGeneration(token) {
            #expect(tokenizer.pieceBytes(token) == Array("0".utf8), "\(tokenizer.pieceBytes(token))")
        }
        let controls = (0..<Int32(tokenizer.vocabularySize)).filter { tokenizer.isControl($0) && !tokenizer.isEndOfGeneration($0) }
        let freeString = try #require(try SchemaGrammar(schemaText: #"{"type":"string"}"#).initialState.advanced(by: [0x22]))
        let inside = masker.allowedTokens(freeString)
        #expect(controls.allSatisfy { !inside.contains($0) })
        #expect(inside.count > tokenizer.vocabularySize / 2)
    }

    /// Picks uniformly among allowed tokens until an end-of-generation token is drawn or nothing
    /// but the end can follow. Returns the bytes and the count of tokens drawn.
    static func randomWalk(_ grammar: SchemaGrammar, masker: TokenMasker, tokenizer: Tokenizer,
                           random: inout SeededRandomGenerator, limit: Int) throws -> (bytes: [UInt8], tokens: Int) {
        var state = grammar.initialState
        var bytes: [UInt8] = []
        var drawn = 0
        while drawn <= limit && !state.isFinished {
            let allowed = masker.allowedTokens(state).tokens
            try #require(!allowed.isEmpty, "dead end after \(String(decoding: bytes, as: UTF8.self))")
            let token = allowed[Int.random(in: 0..<allowed.count, using: &random)]
            drawn += 1
            if tokenizer.isEndOfGeneration(token) {
                #expect(state.isComplete)
                break
            }
            let piece = tokenizer.pieceBytes(token)
            state = try #require(state.advanced(by: piece))
            bytes += piece
        }
        return (bytes, drawn)
    }

    @Test(arguments: GrammarVocabularies.names)
    func randomWalksOverRandomSchemasEndInValidJSON(vocabulary: String) throws {
        let (tokenizer, masker) = try GrammarVocabularies.load(vocabulary)
        var schemas = GrammarRandomSchema(seed: 2024)
        var random = SeededRandomGenerator(seed: 7)
        var compiled = 0
        for _ in 0..<60 {
            let schema = schemas.schema()
            let grammar: SchemaGrammar
            do { grammar = try SchemaGrammar(schema: schema) } catch { continue }  // e.g. unsatisfiable enum
            compiled += 1
            let bound = try #require(grammar.maximumByteCount, "\(schema) should be bounded")
            let validator = SchemaValidator(schema: schema)
            for _ in 0..<3 {
                let walk = try Self.randomWalk(grammar, masker: masker, tokenizer: tokenizer, random: &random, limit: bound + 1)
                let text = String(decoding: walk.bytes, as: UTF8.self)
                #expect(walk.tokens <= bound + 1, "\(schema): \(walk.tokens) tokens for at most \(bound) bytes")
                #expect(walk.bytes.count <= bound)
                #expect(grammar.accepts(walk.bytes), "\(schema): incomplete \(text)")
                let violations = validator.validate(jsonText: walk.bytes)
                #expect(violations.isEmpty, "\(schema): \(text) → \(violations)")
            }
        }
        #expect(compiled >= 50)
    }
}
