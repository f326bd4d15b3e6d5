// The pre-tokenizer of byte-level BPE: splits text into words that BPE merges never cross.
// Which one a model uses is named by `tokenizer.ggml.pre`; the names and the regexes they stand
// for follow llama.cpp (src/llama-vocab.cpp, llm_tokenizer_bpe). The regexes are implemented by
// hand-written scanners in PreTokenizerRules.swift over Unicode classes, not by a regex engine.

enum PreTokenizer: Sendable, Equatable {
    /// `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`
    case gpt2
    /// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`
    case llama3
    /// As llama3 with single digits: `\p{N}` instead of `\p{N}{1,3}`.
    case qwen2
    /// As qwen2 with combining marks inside words: `[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+` and
    /// ` ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*`.
    case qwen35
    /// `\p{N}` split off one by one first, then the gpt2 rules inside each piece.
    case starcoder
    /// `[^\n]+|[\n]+`: runs of line breaks and runs of everything else (gemma4).
    case lines
    /// A list of regexes, each splitting what the previous left (PreTokenizerStages.swift).
    case deepSeekCoder
    case falcon
    /// What llama.cpp uses when a file names no pre-tokenizer.
    case defaultRules

    /// The pre-tokenizer a `tokenizer.ggml.pre` value names.
    init(name: String) throws {
        switch name {
        case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2",
             "dbrx", "smaug-bpe", "chatglm-bpe", "glm4":
            self = .llama3
        case "gpt-2", "phi-2", "jina-es", "jina-de", "gigachat", "jina-v2-es", "jina-v2-de", "a.x-4.0",
             "mellum", "modern-bert", "jina-v1-en", "jina-v2-code", "roberta-bpe", "mpt", "olmo", "jais",
             "trillion", "granite-docling", "exaone4":
            self = .gpt2
        case "qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez", "stablelm2", "hunyuan", "solar-open",
             "grok-2":
            self = .qwen2
        case "qwen35":
            self = .qwen35
        case "starcoder", "refact", "command-r", "smollm", "codeshell", "exaone", "minerva-7b", "mellum2":
            self = .starcoder
        case "gemma4":
            self = .lines
        case "deepseek-coder":
            self = .deepSeekCoder
        case "falcon":
            self = .falcon
        case "", "default":
            self = .defaultRules
        default:
            throw TokenizerError.unsupportedPreTokenizer(name)
        }
    }

    /// Whether a word that is itself a token is taken whole, without running merges
    /// (llama.cpp `ignore_merges`, set for the llama3 family).
    static func ignoresMerges(name: String) -> Bool {
        ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2"].contains(name)
    }

    /// Whether the model puts BOS first when the file does not say (llama.cpp sets it for llama3).
    static func addsBOSByDefault(name: String) -> Bool {
        ignoresMerges(name: name)
    }

    /// Splits `scalars` into words; returns each word's end index (words are back to back).
    /// `classes[i]` is the class of `scalars[i]`.
    func split(_ scalars: UnsafeBufferPointer<UInt32>, classes: UnsafeBufferPointer<CodepointClass>) -> [Int] {
        var ends: [Int] = []
        ends.reserveCapacity(scalars.count / 3 + 1)
        let whole = 0 ..< scalars.count
        switch self {
        case .gpt2:
            var scanner = WordScanner(scalars: scalars, classes: classes, range: whole)
            scanner.splitGPT2(into: &ends)
        case .llama3:
            var scanner = WordScanner(scalars: scalars, classes: classes, range: whole)
            scanner.splitLlama3(digitGroup: 3, marksInWords: false, into: &ends)
        case .qwen2:
            var scanner = WordScanner(scalars: scalars, classes: classes, range: whole)
            scanner.splitLlama3(digitGroup: 1, marksInWords: false, into: &ends)
        case .qwen35:
            var scanner = WordScanner(scalars: scalars, classes: classes, range: whole)
            scanner.splitLlama3(digitGroup: 1, marksInWords: true, into: &ends)
        case .deepSeekCoder, .falcon, .defaultRules:
            var pieces = PieceSplitter(CollapsedText(scalars: scalars, classes: classes))
            switch self {
            case .deepSeekCoder: Self.splitDeepSeekCoder(&pieces)
            case .falcon: Self.splitFalcon(&pieces)
            default: Self.splitDefault(&pieces)
            }
            ends = pieces.ends
        case .lines:
            for position in 0 ..< scalars.count where position + 1 == scalars.count
                || (scalars[position] == 0x0A) != (scalars[position + 1] == 0x0A) {
                ends.append(position + 1)
            }
        case .starcoder:
            // Stage one: every number scalar alone; stage two: gpt2 inside each remaining piece.
            var start = 0
            var position = 0
            while position < scalars.count {
                if classes[position].contains(.number) {
                    if start < position {
                        var scanner = WordScanner(scalars: scalars, classes: classes, range: start ..< position)
                        scanner.splitGPT2(into: &ends)
                    }
                    ends.append(position + 1)
                    start = position + 1
                }
                position += 1
            }
            if start < scalars.count {
                var scanner = WordScanner(scalars: scalars, classes: classes, range: start ..< scalars.count)
                scanner.splitGPT2(into: &ends)
            }
        }
        return ends
    }
}
