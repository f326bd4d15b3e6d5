import KansoEngine

/// A request's prompt as a worker receives it: the agent's fixed text before and after the
/// request's text. When the fixed text is a chat template's rendering (`chat`), the texts of
/// control tokens in it (`<|im_start|>`) are those tokens; in the request's text they never are,
/// so a request cannot close its own turn or open another. Tokenized as one stretch of text.
struct PromptText {
    var prefix: String
    var text: String
    var suffix: String
    var chat: Bool
    /// Its caches ask for numbers that do not depend on the requests decoded beside it
    /// (KVCache.batchInvariant: the agent's `reproducible`).
    var reproducible = false

    /// The fixed prefix as the prefix cache computes it.
    var prefixSegment: TextSegment { TextSegment(prefix, parseSpecial: chat) }

    /// The prompt's tokens (BOS as the model wants it), with `continuation` (a label, say) after
    /// the suffix as plain text.
    func tokens(_ tokenizer: Tokenizer, continuation: String = "") -> [Int32] {
        tokenizer.encode([prefixSegment, TextSegment(text, parseSpecial: false), TextSegment(suffix, parseSpecial: chat),
                          TextSegment(continuation, parseSpecial: false)], addSpecial: true)
    }

    /// The whole prompt as text.
    var rendered: String { prefix + text + suffix }
}
