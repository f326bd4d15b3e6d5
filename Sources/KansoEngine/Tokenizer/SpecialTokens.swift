// Which tokens begin and end sequences, resolved from what the vocabulary states plus the
// defaults and text-based detection llama.cpp applies (src/llama-vocab.cpp, load): BOS/EOS
// defaults per model kind, EOT/EOM found by text, and the end-of-generation set.

struct SpecialTokens: Sendable {
    var bos: Int32?
    var eos: Int32?
    var eot: Int32?
    var eom: Int32?
    var unknown: Int32?
    var separator: Int32?
    var addBOS: Bool
    var addEOS: Bool
    var addSeparator: Bool
    var addSpacePrefix: Bool
    var endOfGeneration: Set<Int32>
    /// Token types after detection: tokens found by text as EOT/EOG become control tokens.
    var types: [TokenType]

    private static let endOfTurnTexts = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
        "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>",
    ]
    private static let fillInMiddleTexts = [
        ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"],
        ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"],
        ["<|file_sep|>"],
    ]
    private static let endOfGenerationTexts: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<｜end▁of▁sentence｜>", "[e~[",
    ]

    init(vocabulary: TokenizerVocabulary, types initialTypes: [TokenType], idForText: (String) -> Int32?) throws {
        let count = vocabulary.tokens.count
        let inRange: (Int32) -> Int32? = { $0 >= 0 && Int($0) < count ? $0 : nil }
        types = initialTypes
        switch vocabulary.model {
        case .sentencePiece:
            bos = vocabulary.bos ?? inRange(1)
            eos = vocabulary.eos ?? inRange(2)
            unknown = vocabulary.unknown ?? inRange(0)
            separator = vocabulary.separator
            addBOS = vocabulary.addBOS ?? true
            addSeparator = false
            addSpacePrefix = vocabulary.addSpacePrefix ?? true
        case .bytePair:
            bos = vocabulary.bos
            eos = vocabulary.eos
            unknown = vocabulary.unknown
            separator = vocabulary.separator
            addBOS = vocabulary.addBOS ?? PreTokenizer.addsBOSByDefault(name: vocabulary.preTokenizer)
            addSeparator = false
            addSpacePrefix = vocabulary.addSpacePrefix ?? false
        case .gemma4:
            bos = vocabulary.bos
            eos = vocabulary.eos
            unknown = vocabulary.unknown
            separator = vocabulary.separator
            addBOS = true  // llama.cpp forces BOS for Gemma 4 whatever the file says
            addSeparator = false
            addSpacePrefix = false
        case .wordPiece:
            bos = vocabulary.bos ?? inRange(101)
            eos = vocabulary.eos
            unknown = vocabulary.unknown ?? inRange(100)
            separator = vocabulary.separator ?? inRange(102)
            addBOS = vocabulary.addBOS ?? true
            addSeparator = true
            addSpacePrefix = false
        }
        addEOS = vocabulary.addEOS ?? false
        if addBOS, bos == nil { throw TokenizerError.addSpecialWithoutToken(flag: "add_bos_token") }
        if addEOS, eos == nil { throw TokenizerError.addSpecialWithoutToken(flag: "add_eos_token") }
        if addSeparator, separator == nil { throw TokenizerError.addSpecialWithoutToken(flag: "add_sep_token") }

        // Tokens recognised by their text are control tokens, whatever the file says.
        var detected = Set<Int32>()
        func detect(_ texts: [String]) -> Int32? {
            for text in texts {
                if let id = idForText(text) {
                    detected.insert(id)
                    return id
                }
            }
            return nil
        }
        eot = vocabulary.eot ?? detect(Self.endOfTurnTexts)
        eom = vocabulary.eom ?? detect(["<|eom_id|>"])
        var endOfGeneration = Set(vocabulary.additionalEndOfGeneration)
        for candidates in Self.fillInMiddleTexts {
            if let id = detect(candidates) { endOfGeneration.insert(id) }
        }
        for text in Self.endOfGenerationTexts {
            if let id = detect([text]) { endOfGeneration.insert(id) }
        }
        for id in [eos, eot, eom].compactMap({ $0 }) { endOfGeneration.insert(id) }
        // Harmony-style vocabularies end a turn with <|return|> or <|call|>; <|end|> only ends a message.
        let returnID = idForText("<|return|>"), callID = idForText("<|call|>") ?? idForText("<|calls|>")
        if let endID = idForText("<|end|>"), returnID != nil || idForText("<|flush|>") != nil, callID != nil {
            endOfGeneration.remove(endID)
            detected.remove(endID)
        }
        // Gemma 4 (it has <|tool_response>) uses </s> as ordinary text.
        if idForText("<|tool_response>") != nil, let closing = idForText("</s>") {
            endOfGeneration.remove(closing)
            detected.remove(closing)
        }
        self.endOfGeneration = endOfGeneration
        for id in detected { types[Int(id)] = .control }
    }
}
