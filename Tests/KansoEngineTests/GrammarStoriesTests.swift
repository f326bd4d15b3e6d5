// Constrained decoding with the real stories260K model, which only knows children's stories: left
// alone it writes prose, under a schema it must write JSON that validates, greedily and sampled,
// through ConstrainedDecoder and through Generator with a GrammarSamplerStage.

import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

@Suite(.enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct GrammarStoriesTests {
    static let schema = #"""
        {"type":"object","properties":{
          "name":{"type":"string","maxLength":16},
          "age":{"type":"integer","minimum":1,"maximum":12},
          "friends":{"type":"array","items":{"type":"string","maxLength":10},"minItems":1,"maxItems":3},
          "mood":{"enum":["happy","sad","scared"]},
          "likes_park":{"type":"boolean"},
          "pet":{"type":"object","properties":{"kind":{"type":"string","maxLength":8},"legs":{"type":"integer","maximum":8}},"required":["kind"]}},
         "required":["name","age","friends","mood","likes_park"]}
        """#
    static let prompt = "Once upon a time, there was a little girl named Lily."

    static func load() throws -> Model {
        let url = try #require(SharedData.stories260K)
        return try Model(path: url.path, threads: 1, contextLength: 512)
    }

    @Test func unconstrainedOutputIsNotJSONButConstrainedOutputValidates() throws {
        let model = try Self.load()
        let prompt = model.tokenizer.encode(Self.prompt, addSpecial: true, parseSpecial: false)
        var plain = Generator(model: model, sampler: SamplerChain(settings: .greedy), maximumTokens: 60)
        let prose = try plain.generate(prompt: prompt, in: try model.makeCache())
        let grammar = try SchemaGrammar(schemaText: Self.schema)
        #expect(!SchemaValidator(schema: grammar.schema).validate(jsonText: Array(prose.text.utf8)).isEmpty, "\(prose.text)")

        let masker = TokenMasker(tokenizer: model.tokenizer)
        var decoder = ConstrainedDecoder(model: model, grammar: grammar, masker: masker,
                                         sampler: SamplerChain(settings: .greedy), maximumTokens: 400)
        let result = try decoder.decode(prompt: prompt, in: try model.makeCache())
        #expect(SchemaValidator(schema: grammar.schema).validate(jsonText: Array(result.text.utf8)).isEmpty, "\(result.text)")
        #expect(result.value["name"] != nil && result.value["friends"] != nil)
        // The same output again: greedy decoding is deterministic, masks come from the cache.
        var again = decoder
        #expect(try again.decode(prompt: prompt, in: try model.makeCache()).text == result.text)
    }

    @Test func sampledOutputsOverRandomSchemasValidate() throws {
        let model = try Self.load()
        let masker = TokenMasker(tokenizer: model.tokenizer)
        let prompt = model.tokenizer.encode(Self.prompt, addSpecial: true, parseSpecial: false)
        let cache = try model.makeCache()
        var schemas = GrammarRandomSchema(seed: 99)
        var decoded = 0
        for index in 0..<24 {
            let schema = schemas.schema()
            guard let grammar = try? SchemaGrammar(schema: schema) else { continue }
            let settings = SamplingSettings(temperature: index % 3 == 0 ? 0 : 1.2, topK: 0, topP: 1, minP: 0, seed: UInt64(index))
            var decoder = ConstrainedDecoder(model: model, grammar: grammar, masker: masker,
                                             sampler: SamplerChain(settings: settings), maximumTokens: 400)
            let result = try decoder.decode(prompt: prompt, in: cache)
            #expect(SchemaValidator(schema: schema).validate(result.value).isEmpty, "\(schema): \(result.text)")
            #expect(result.reusedPromptTokens == (decoded == 0 ? 0 : prompt.count - 1))
            decoded += 1
        }
        #expect(decoded >= 20)
    }

    @Test func generatorWithGrammarStageProducesValidJSON() throws {
        let model = try Self.load()
        let grammar = try SchemaGrammar(schemaText: #"{"type":"object","properties":{"hero":{"type":"string","maxLength":12},"brave":{"type":"boolean"}},"required":["hero","brave"]}"#)
        let masker = TokenMasker(tokenizer: model.tokenizer)
        let chain = SamplerChain(settings: SamplingSettings(temperature: 0.9, seed: 3))
        let sampler = SamplerChain(stages: [GrammarSamplerStage(grammar: grammar, masker: masker)] + chain.stages, seed: 3)
        var generator = Generator(model: model, sampler: sampler, maximumTokens: 200)
        let prompt = model.tokenizer.encode(Self.prompt, addSpecial: true, parseSpecial: false)
        let result = try generator.generate(prompt: prompt, in: try model.makeCache())
        #expect(result.stopReason == .endOfGeneration, "\(result.text)")
        let bytes = result.tokens.flatMap { model.tokenizer.pieceBytes($0) }
        #expect(grammar.accepts(bytes), "\(result.text)")
        #expect(SchemaValidator(schema: grammar.schema).validate(jsonText: bytes).isEmpty)
    }
}
