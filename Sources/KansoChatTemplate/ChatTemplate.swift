// A model's chat template (GGUF `tokenizer.chat_template`, Jinja) parsed once and rendered for a
// conversation, the way the model was trained to read one. A subset of Jinja: enough for the
// templates of SmolLM2, Qwen2.5, Qwen3, Gemma 3, Llama 3.x and Phi-3 (the golden tests render
// each as Jinja2 does); a construct outside it is refused when the template is parsed or
// rendered, with its name, never rendered differently.

/// One turn of a conversation.
public struct ChatMessage: Sendable, Equatable {
    /// "system", "user" or "assistant" (templates may know others, such as "tool").
    public var role: String
    public var content: String

    public init(role: String, content: String) {
        self.role = role
        self.content = content
    }

    var value: TemplateValue { ["role": .string(role), "content": .string(content)] }
}

public struct ChatTemplate: Sendable {
    /// The template's text as given.
    public let source: String
    private let nodes: [TemplateNode]

    /// Parses `source`; throws for text that is not Jinja and for constructs outside the subset.
    public init(_ source: String) throws(TemplateError) {
        self.source = source
        nodes = try TemplateParser.parse(source)
    }

    /// Renders with the variables of `context` (`messages`, `add_generation_prompt`, ...).
    public func render(context: [String: TemplateValue]) throws(TemplateError) -> String {
        var renderer = TemplateRenderer(context: context)
        _ = try renderer.render(nodes)
        return renderer.output
    }

    /// Renders `messages` with the variables chat templates expect: `bos_token` and `eos_token`
    /// (the vocabulary's texts of those tokens), `add_generation_prompt` (whether the text ends by
    /// opening the assistant's turn), and any `variables` (such as `enable_thinking`).
    public func render(messages: [ChatMessage], addGenerationPrompt: Bool, bosToken: String, eosToken: String,
                       variables: [String: TemplateValue] = [:]) throws(TemplateError) -> String {
        var context = variables
        context["messages"] = .list(messages.map(\.value))
        context["add_generation_prompt"] = .bool(addGenerationPrompt)
        context["bos_token"] = .string(bosToken)
        context["eos_token"] = .string(eosToken)
        return try render(context: context)
    }
}

/// A conversation rendered around the place where a request's text goes: `prefix + text + suffix`
/// is what the template renders with the text in the user's turn. The prefix and suffix are fixed
/// for an agent, so the prefix's tokens are computed once and reused.
public struct ChatPromptFrame: Sendable, Equatable {
    public var prefix: String
    public var suffix: String

    public init(prefix: String, suffix: String) {
        self.prefix = prefix
        self.suffix = suffix
    }

    /// Stands in for the request's text while rendering: private-use code points that no
    /// template writes and no template operation on a message's content changes.
    static let placeholder = "\u{F8F0}kanso:request\u{F8F1}"

    /// The system turn (when given), worked examples as pairs of a user and an assistant turn
    /// (`shots`), then the user turn `user` with the request's text where `marker` is, then the
    /// assistant's turn opened for the answer.
    public static func render(_ template: ChatTemplate, system: String?, shots: [(user: String, assistant: String)] = [],
                              user: String, marker: String = "{text}", bosToken: String, eosToken: String,
                              variables: [String: TemplateValue] = [:]) throws(ChatFrameError) -> ChatPromptFrame {
        guard let markerRange = user.firstRange(of: marker) else { throw .noMarker(marker) }
        var userTurn = user
        userTurn.replaceSubrange(markerRange, with: placeholder)
        var messages: [ChatMessage] = []
        if let system { messages.append(ChatMessage(role: "system", content: system)) }
        for shot in shots {
            messages.append(ChatMessage(role: "user", content: shot.user))
            messages.append(ChatMessage(role: "assistant", content: shot.assistant))
        }
        messages.append(ChatMessage(role: "user", content: userTurn))
        let rendered: String
        do {
            rendered = try template.render(messages: messages, addGenerationPrompt: true, bosToken: bosToken,
                                           eosToken: eosToken, variables: variables)
        } catch {
            throw .template(error)
        }
        let pieces = TextFunctions.split(rendered, separator: placeholder, limit: -1)
        guard pieces.count == 2 else { throw .requestPlacedTimes(pieces.count - 1) }
        return ChatPromptFrame(prefix: pieces[0], suffix: pieces[1])
    }
}

/// Why a conversation could not be framed around the request's text.
public enum ChatFrameError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The user turn has no marker for the request's text.
    case noMarker(String)
    case template(TemplateError)
    /// The template wrote the user's message this many times instead of once (0: it dropped it).
    case requestPlacedTimes(Int)

    public var description: String {
        switch self {
        case .noMarker(let marker): return "the user turn has no \(marker) for the request's text"
        case .template(let error): return "chat template: \(error)"
        case .requestPlacedTimes(0): return "the chat template drops the user's message, so the request's text has no place"
        case .requestPlacedTimes(let count):
            return "the chat template writes the user's message \(count) times; Kanso needs it once"
        }
    }
}
