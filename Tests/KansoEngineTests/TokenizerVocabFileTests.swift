// The tokenizers against llama.cpp's reference tokenizations: every text of each
// ../shared/vocab/NAME.gguf.inp must give exactly the ids on the matching line of NAME.gguf.out,
// encoded as llama.cpp's tests/test-tokenizer-0.cpp does (add_special false, parse_special false).

import KansoGGUF
import Foundation
import KansoEngine
import KansoTestSupport
import Testing

/// One vocab-only GGUF with its reference cases.
struct VocabFixture {
    let name: String
    let tokenizer: Tokenizer
    /// (text, expected ids) in file order.
    let cases: [(text: String, expected: [Int32])]

    static let names = ["llama-spm", "phi-3", "llama-bpe", "qwen2", "qwen35", "gpt-2", "starcoder", "bert-bge"]
    /// More of llama.cpp's vocab files (models/ in its sources), tested when the shared folder has them.
    static let optionalNames = ["gemma-4", "command-r", "mpt", "refact", "deepseek-coder", "falcon"]
        .filter { file($0) != nil }
    static let byteLevelNames: Set<String> = ["llama-bpe", "qwen2", "qwen35", "gpt-2", "starcoder"]

    static func file(_ name: String) -> URL? {
        SharedData.file("vocab/ggml-vocab-\(name).gguf")
    }

    private static let cacheLock = NSLock()
    nonisolated(unsafe) private static var cache: [String: VocabFixture] = [:]

    /// Loads each fixture once per test run (the Llama 3 vocabulary takes seconds in a debug build).
    static func load(_ name: String) throws -> VocabFixture {
        cacheLock.lock()
        defer { cacheLock.unlock() }
        if let cached = cache[name] { return cached }
        let fixture = try read(name)
        cache[name] = fixture
        return fixture
    }

    private static func read(_ name: String) throws -> VocabFixture {
        let url = try #require(file(name), "\(SharedData.missingMessage("vocab/ggml-vocab-\(name).gguf"))")
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: url.path))
        let input = try Data(contentsOf: URL(fileURLWithPath: url.path + ".inp"))
        let output = try String(contentsOfFile: url.path + ".out", encoding: .utf8)
        let texts = splitTests(Array(input))
        let lines = output.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        try #require(lines.count >= texts.count, "\(name): \(texts.count) texts but \(lines.count) result lines")
        var cases: [(String, [Int32])] = []
        for (index, text) in texts.enumerated() {
            let ids = lines[index].split(separator: " ").compactMap { Int32($0) }
            cases.append((String(decoding: text, as: UTF8.self), ids))
        }
        return VocabFixture(name: name, tokenizer: tokenizer, cases: cases)
    }

    /// test-tokenizer-0.cpp's split: texts separated by "\n__ggml_vocab_test__\n"; a trailing
    /// separator does not start another (empty) text.
    static func splitTests(_ raw: [UInt8]) -> [[UInt8]] {
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [[UInt8]] = []
        var start = 0
        var position = 0
        while start < raw.count {
            var found: Int?
            position = start
            while position + separator.count <= raw.count {
                if raw[position] == separator[0], Array(raw[position ..< position + separator.count]) == separator {
                    found = position
                    break
                }
                position += 1
            }
            guard let found else {
                texts.append(Array(raw[start...]))
                break
            }
            texts.append(Array(raw[start ..< found]))
            start = found + separator.count
        }
        return texts
    }
}

@Suite(.enabled(if: SharedData.vocabDirectory != nil, "\(SharedData.missingMessage("vocab"))"))
struct TokenizerVocabFileTests {
    @Test(arguments: VocabFixture.names + VocabFixture.optionalNames)
    func matchesLlamaCppReference(name: String) throws {
        let fixture = try VocabFixture.load(name)
        #expect(fixture.cases.count >= 40)
        var failures: [String] = []
        for (text, expected) in fixture.cases {
            let actual = fixture.tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            if actual != expected {
                failures.append("\(text.debugDescription): expected \(expected), got \(actual)")
            }
        }
        #expect(failures.isEmpty, "\(name): \(failures.count) of \(fixture.cases.count) differ:\n\(failures.prefix(8).joined(separator: "\n"))")
    }

    @Test(arguments: (VocabFixture.names + VocabFixture.optionalNames).filter { $0 != "bert-bge" })
    func decodeInvertsEncode(name: String) throws {
        let fixture = try VocabFixture.load(name)
        let tokenizer = fixture.tokenizer
        var failures: [String] = []
        for (text, _) in fixture.cases {
            for addSpecial in [false, true] {
                let tokens = tokenizer.encode(text, addSpecial: addSpecial, parseSpecial: false)
                let withoutBOS = addSpecial && tokenizer.addsBOS ? Array(tokens.dropFirst()) : tokens
                if addSpecial && tokenizer.addsBOS { #expect(tokens.first == tokenizer.bos) }
                let decoded = tokenizer.decode(withoutBOS)
                if decoded != text { failures.append("\(text.debugDescription) -> \(decoded.debugDescription)") }
            }
            // Streaming: joined piece bytes give the text (with the SentencePiece prefix space).
            let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
            let joined = tokens.flatMap { tokenizer.pieceBytes($0) }
            let expectedBytes = (tokenizer.addsSpacePrefix && !text.isEmpty ? [0x20] : []) + Array(text.utf8)
            if joined != expectedBytes { failures.append("pieces of \(text.debugDescription)") }
        }
        #expect(failures.isEmpty, "\(name): \(failures.prefix(8).joined(separator: "\n"))")
    }

    @Test func encodesConcurrently() async throws {
        let fixture = try VocabFixture.load("llama-bpe")
        let tokenizer = fixture.tokenizer
        let text = fixture.cases.map(\.text).joined(separator: "\n")
        let expected = tokenizer.encode(text, addSpecial: true, parseSpecial: true)
        let results = await withTaskGroup(of: [Int32].self) { group in
            for _ in 0 ..< 8 {
                group.addTask { tokenizer.encode(text, addSpecial: true, parseSpecial: true) }
            }
            return await group.reduce(into: [[Int32]]()) { $0.append($1) }
        }
        #expect(results.count == 8)
        #expect(results.allSatisfy { $0 == expected })
    }

    @Test func parsesControlTokensWhenAsked() throws {
        let fixture = try VocabFixture.load("qwen2")
        let tokenizer = fixture.tokenizer
        let start = try #require(tokenizer.tokenID(spelled: "<|im_start|>"))
        let end = try #require(tokenizer.tokenID(spelled: "<|im_end|>"))
        let text = "<|im_start|>user\nHi<|im_end|>"
        let parsed = tokenizer.encode(text, addSpecial: false, parseSpecial: true)
        #expect(parsed.first == start)
        #expect(parsed.last == end)
        #expect(tokenizer.decode(parsed) == text)
        let literal = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
        #expect(!literal.contains(start) && !literal.contains(end))
        #expect(tokenizer.decode(literal) == text)
        #expect(tokenizer.isEndOfGeneration(end))
        #expect(tokenizer.isControl(start))
        #expect(!tokenizer.isEndOfGeneration(start))
        #expect(tokenizer.eot == end)
    }

    @Test func llama3SpecialTokensAndBOS() throws {
        let tokenizer = try VocabFixture.load("llama-bpe").tokenizer
        #expect(tokenizer.vocabularySize == 128_256)
        #expect(tokenizer.bos == 128_000)
        #expect(tokenizer.eos == 128_001)
        #expect(tokenizer.eot == 128_009)
        #expect(tokenizer.addsBOS)
        #expect(tokenizer.isEndOfGeneration(128_001) && tokenizer.isEndOfGeneration(128_009))
        #expect(!tokenizer.isEndOfGeneration(128_000))
        #expect(tokenizer.encode("Hello", addSpecial: true, parseSpecial: false) == [128_000, 9906])
        let header = tokenizer.encode("<|start_header_id|>user<|end_header_id|>", addSpecial: false, parseSpecial: true)
        #expect(header == [128_006, 882, 128_007])
    }

    @Test func phi3SpecialTokensSwallowFollowingWhitespace() throws {
        let tokenizer = try VocabFixture.load("phi-3").tokenizer
        let user = try #require(tokenizer.tokenID(spelled: "<|user|>"))
        let end = try #require(tokenizer.tokenID(spelled: "<|end|>"))
        let hi = tokenizer.encode("Hi", addSpecial: false, parseSpecial: false)
        #expect(tokenizer.encode("<|user|>\n  Hi<|end|>", addSpecial: false, parseSpecial: true) == [user] + hi + [end])
        #expect(tokenizer.isEndOfGeneration(end))
        #expect(tokenizer.eos == 32_000 && tokenizer.isEndOfGeneration(32_000))
    }

    @Test func sentencePieceBytesAndSpaces() throws {
        let tokenizer = try VocabFixture.load("llama-spm").tokenizer
        #expect(tokenizer.addsBOS && tokenizer.addsSpacePrefix)
        #expect(tokenizer.bos == 1 && tokenizer.eos == 2)
        // "<0x0A>" stands for the byte 0x0A; "▁Hello" for " Hello".
        let newline = try #require(tokenizer.tokenID(spelled: "<0x0A>"))
        #expect(tokenizer.pieceBytes(newline) == [0x0A])
        let hello = try #require(tokenizer.tokenID(spelled: "▁Hello"))
        #expect(tokenizer.pieceBytes(hello) == Array(" Hello".utf8))
        #expect(tokenizer.withPieceBytes(hello) { Array($0) } == Array(" Hello".utf8))
        #expect(tokenizer.pieceBytes(-1).isEmpty && tokenizer.pieceBytes(Int32(tokenizer.vocabularySize)).isEmpty)
        #expect(tokenizer.encode("Hello", addSpecial: true, parseSpecial: false) == [1, hello])
        #expect(tokenizer.decode([1, hello]) == "<s>Hello")
        // Streaming a split character: the bytes of both halves join to valid UTF-8.
        let tokens = tokenizer.encode("🦙", addSpecial: false, parseSpecial: false)
        let bytes = tokens.flatMap { tokenizer.pieceBytes($0) }
        #expect(String(decoding: bytes, as: UTF8.self) == " 🦙")
    }
}

@Suite(.enabled(if: SharedData.stories260K != nil, "\(SharedData.missingMessage("models/stories260K.gguf"))"))
struct TokenizerStoriesTests {
    @Test func tokenizesThePublishedPrompt() throws {
        let url = try #require(SharedData.stories260K)
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: url.path))
        #expect(tokenizer.vocabularySize == 512)
        let tokens = tokenizer.encode("Once upon a time", addSpecial: true, parseSpecial: false)
        #expect(tokens == [1, 403, 407, 261, 378])
        #expect(tokenizer.decode(Array(tokens.dropFirst())) == "Once upon a time")
        #expect(tokenizer.isEndOfGeneration(2) && !tokenizer.isEndOfGeneration(1))
    }
}
