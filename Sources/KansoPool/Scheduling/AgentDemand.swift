import KansoGGUF

/// What an agent's requests can use of its model's context and KV cache, bounded from its
/// manifest alone (DESIGN.md, Scheduling: "the context is what the model's agents need"): its
/// prompt, the longest text it accepts (`max_input_tokens`), and what it generates. The
/// supervisor has no tokenizer, so text is counted in UTF-8 bytes, which bound its tokens: every
/// token covers at least one byte, and a tokenizer adds at most `specialTokens` of its own (BOS,
/// EOS, a leading space). A model serving several agents gets the largest context of theirs.
public struct AgentDemand: Sendable, Equatable {
    /// The longest request text an agent accepts unless its manifest says (`max_input_tokens`).
    public static let defaultMaxInputTokens = 512
    /// Tokens a continuation may take unless the manifest's `max_tokens` says: predict, extract.
    public static let defaultPredictTokens = 64
    public static let defaultExtractTokens = 256
    /// Tokens a tokenizer adds beyond the text's bytes.
    static let specialTokens = 4
    /// Next words (NextWordPredictor): two candidates per word asked (at most 50), each a fork of
    /// the prompt growing by up to five tokens.
    static let nextWordForkPositions = 2 * 50 * 5
    /// Tokens a label's continuation may take beyond its bytes and the space before it: the
    /// prompt's last tokens are scored again where the label merges with them.
    static let labelMergeTokens = 8

    /// Positions one request of the agent may fill, or the manifest's `context_length` when it sets one.
    public let contextLength: Int
    /// Positions of its stored prompt prefix (the prompt before `{text}`); 0 without one.
    public let prefixPositions: Int
    /// Positions forks add at once: every label's (classify) or every next-word candidate's (predict).
    public let forkPositions: Int
    public let constrainedDecoding: Bool
    public let kvCache: KVCacheType

    /// `prompt` is the agent's settled prompt (a chat template's rendering with `template =
    /// "chat"`); nil reads the manifest's prompt as raw text.
    public init(_ manifest: AgentManifest, prompt: AgentPrompt? = nil) {
        let template = prompt ?? AgentPrompt(raw: manifest.prompt, shots: AgentPrompt.shots(manifest))
        let prefix = template.prefix.utf8.count + Self.specialTokens
        let prompt = prefix + template.suffix.utf8.count + Self.maxInputTokens(manifest)
        var forks = 0, output: Int
        switch manifest.task {
        case .predict:
            // A continuation, or next words: one token and four more per candidate.
            output = max(Self.maximumOutputTokens(manifest), 5)
            forks = Self.nextWordForkPositions
        case .classify:
            let labels = (manifest.labels ?? []).map { $0.utf8.count + 1 + Self.labelMergeTokens }
            output = (labels.max() ?? 0) + 1
            forks = labels.reduce(0, +)
        case .extract:
            output = Self.maximumOutputTokens(manifest)
        }
        contextLength = manifest.contextLength ?? prompt + output
        prefixPositions = template.prefix.isEmpty ? 0 : prefix
        forkPositions = forks
        constrainedDecoding = manifest.task == .extract
        kvCache = manifest.kvCache ?? .f16
    }

    /// The longest request text the agent accepts, in tokens.
    public static func maxInputTokens(_ manifest: AgentManifest) -> Int {
        manifest.maxInputTokens ?? defaultMaxInputTokens
    }

    /// The most tokens one request may generate: the manifest's `max_tokens`, or the task's default.
    public static func maximumOutputTokens(_ manifest: AgentManifest) -> Int {
        manifest.maxTokens ?? (manifest.task == .extract ? defaultExtractTokens : defaultPredictTokens)
    }

    /// What the model serving `agents` is asked for: the largest context of theirs (the model's
    /// trained length caps it in the estimate and in the worker), the widest KV type, every
    /// agent's stored prefix, the most fork positions one request adds.
    public static func model(serving agents: [AgentDemand], batchSize: Int, threads: Int) -> MemoryDemand {
        MemoryDemand(contextLength: agents.map(\.contextLength).max(),
                     kvCache: agents.map(\.kvCache).reduce(.q8_0, KVCacheType.widest),
                     prefixPositions: agents.map(\.prefixPositions).filter { $0 > 0 },
                     forkPositions: agents.map(\.forkPositions).max() ?? 0,
                     batchSize: batchSize, threads: threads,
                     constrainedDecoding: agents.contains { $0.constrainedDecoding })
    }
}
