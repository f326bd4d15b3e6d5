// Measured, not timed: how long the Llama 3 vocabulary (128k tokens, 280k merges) takes to load
// and how fast text encodes, printed for the record. What is asserted is correctness on the
// large input (an exact round trip), never a duration, so a slow shared machine cannot fail it.

import KansoGGUF
import Foundation
import KansoEngine
import KansoTestSupport
import Testing

@Suite(.enabled(if: SharedData.vocabDirectory != nil, "\(SharedData.missingMessage("vocab"))"))
struct TokenizerPerformanceTests {
    private static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
    }

    @Test(arguments: ["llama-bpe", "llama-spm"])
    func loadAndEncodeThroughput(name: String) throws {
        let url = try #require(VocabFixture.file(name))
        let clock = ContinuousClock()
        var file: GGUFFile?
        let readTime = try clock.measure { file = try GGUFFile(path: url.path) }
        let gguf = try #require(file)
        var vocabulary: TokenizerVocabulary?
        let vocabularyTime = try clock.measure { vocabulary = try TokenizerVocabulary(gguf: gguf.metadata) }
        var built: Tokenizer?
        let buildTime = try clock.measure { built = try Tokenizer(vocabulary: #require(vocabulary)) }
        let tokenizer = try #require(built)

        // About 256 KiB of the reference texts (many scripts, emoji, numbers, whitespace runs).
        let samples = try VocabFixture.load(name).cases.map(\.text)
        var text = ""
        while text.utf8.count < 256 * 1024 { text += samples.joined(separator: "\n") }
        var tokens: [Int32] = []
        let encodeTime = clock.measure { tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: false) }
        var decoded = ""
        let decodeTime = clock.measure { decoded = tokenizer.decode(tokens) }
        #expect(decoded == text)

        let megabytes = Double(text.utf8.count) / 1_000_000
        print(String(
            format: "tokenizer %@: %d tokens; GGUF read %.1f ms, metadata->vocabulary %.1f ms, build %.1f ms; "
                + "encode %.2f MB/s (%d tokens), decode %.2f MB/s",
            name, tokenizer.vocabularySize, Self.seconds(readTime) * 1000, Self.seconds(vocabularyTime) * 1000,
            Self.seconds(buildTime) * 1000, megabytes / Self.seconds(encodeTime), tokens.count,
            megabytes / Self.seconds(decodeTime)))
    }
}
