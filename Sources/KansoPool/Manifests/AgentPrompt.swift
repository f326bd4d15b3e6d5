import KansoChatTemplate
import KansoGGUF
import SystemPackage

/// The fixed text of an agent's prompt before and after the request's text, settled when the
/// manifest is loaded: a raw prompt split at `{text}`, or the model's chat template rendered for
/// the agent's system turn and its user turn (`template = "chat"`) and split where the request's
/// text goes. Workers compute the prefix's tokens once and reuse them for every request.
public struct AgentPrompt: Sendable, Equatable {
    public var prefix: String
    public var suffix: String
    /// Whether prefix and suffix come from a chat template: the texts of control tokens in them
    /// (`<|im_start|>`) are those tokens, where in a raw prompt they are text.
    public var chat: Bool

    public init(prefix: String, suffix: String, chat: Bool) {
        self.prefix = prefix
        self.suffix = suffix
        self.chat = chat
    }

    /// A raw prompt: the text before and after the first `{text}`.
    public init(raw template: String) {
        if let range = template.firstRange(of: "{text}") {
            prefix = String(template[..<range.lowerBound])
            suffix = String(template[range.upperBound...])
        } else {
            prefix = template
            suffix = ""
        }
        chat = false
    }

    /// A raw prompt with worked examples before the line where `{text}` is: the text above that
    /// line (an instruction) stays first and once; each example is that line and what follows it
    /// with the example's text at `{text}`, its answer after (a space between unless the prompt
    /// ends in white space or the answer begins with it), and a blank line.
    public init(raw template: String, shots: [(user: String, assistant: String)]) {
        self.init(raw: template)
        guard !shots.isEmpty else { return }
        let lineStart = prefix.lastIndex(of: "\n").map { prefix.index(after: $0) } ?? prefix.startIndex
        let header = String(prefix[..<lineStart]), lead = String(prefix[lineStart...])
        let endsInSpace = suffix.last?.isWhitespace ?? false
        prefix = header + shots.map { shot in
            let separator = endsInSpace || (shot.assistant.first?.isWhitespace ?? false) ? "" : " "
            return lead + shot.user + suffix + separator + shot.assistant + "\n\n"
        }.joined() + lead
    }

    /// The manifest's first `shots` examples as (the user's text, the answer) pairs.
    static func shots(_ manifest: AgentManifest) -> [(user: String, assistant: String)] {
        manifest.examples.prefix(manifest.shots).map { ($0.text, $0.answer) }
    }

    /// Variables every chat template is rendered with beyond the conversation: Kanso's jobs want
    /// the answer itself, so models that can think first (Qwen3) are asked not to.
    static let chatVariables: [String: TemplateValue] = ["enable_thinking": false]

    /// The agent's prompt for its model at `modelPath`; a chat template that is missing, outside
    /// the Jinja subset, or refuses the conversation is a problem with the manifest's `template`.
    static func resolve(_ manifest: AgentManifest, modelPath: String) throws(ManifestProblem) -> AgentPrompt {
        guard manifest.template == .chat else { return AgentPrompt(raw: manifest.prompt, shots: shots(manifest)) }
        func problem(_ message: String) -> ManifestProblem {
            ManifestProblem(file: manifest.manifestPath, key: "template", message: message)
        }
        let fileName = FilePath(modelPath).lastComponent?.string ?? modelPath
        let metadata: GGUFMetadata
        do {
            metadata = try GGUFFile(path: modelPath).metadata
        } catch {
            throw problem("cannot read the chat template of \(modelPath): \(error)")
        }
        guard let source = metadata.string("tokenizer.chat_template"), !source.isEmpty else {
            throw problem("template = \"chat\" needs a model with a chat template, and \(fileName) has none "
                + "(no tokenizer.chat_template in its metadata: a base model?); use template = \"raw\" with a prompt written for it")
        }
        let template: ChatTemplate
        do {
            template = try ChatTemplate(source)
        } catch {
            throw problem("the chat template of \(fileName) cannot be used: \(error)")
        }
        let tokens = metadata.stringArray("tokenizer.ggml.tokens")
        func tokenText(_ key: String) -> String {
            guard let tokens, let id = metadata.int(key), tokens.indices.contains(id) else { return "" }
            return tokens[id]
        }
        do {
            let shots = shots(manifest).map { (user: manifest.prompt.replacing("{text}", with: $0.user, maxReplacements: 1), assistant: $0.assistant) }
            let frame = try ChatPromptFrame.render(template, system: manifest.system, shots: shots, user: manifest.prompt,
                                                   bosToken: tokenText("tokenizer.ggml.bos_token_id"),
                                                   eosToken: tokenText("tokenizer.ggml.eos_token_id"), variables: chatVariables)
            return AgentPrompt(prefix: frame.prefix, suffix: frame.suffix, chat: true)
        } catch {
            throw problem("the chat template of \(fileName) cannot frame this agent's turns: \(error)")
        }
    }
}
