// The fixtures' synthetic vocabularies (SPM-style for llama and gemma3, byte-level BPE with the
// qwen2 pre-tokenizer for qwen2/qwen3) tokenize a sample sentence as llama.cpp does.

import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine

@Suite struct FidelityTokenizerTests {
    @Test("sample text tokenizes as llama.cpp does", arguments: FidelityFixtures.names)
    func sampleText(_ name: String) throws {
        let golden = try FidelityFixtures.golden(name)
        let file = try GGUFFile(path: FidelityFixtures.modelPath(name))
        let tokenizer = try Tokenizer(gguf: file)
        let tokens = tokenizer.encode(golden.text, addSpecial: true, parseSpecial: false)
        #expect(tokens == golden.textTokens, "\(golden.fixture): engine \(tokens), llama.cpp \(golden.textTokens)")
    }
}
