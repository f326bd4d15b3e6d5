import SystemPackage
import KansoGGUF
import Glibc
import KansoWire

/// One agent as declared by `agents/NAME.toml` (DESIGN.md, Agents): a task on a model with its
/// prompt, labels or schema, sampling, priority and keep-alive. Built only by `ManifestReader`,
/// which validates every key, so a value of this type is always usable.
public struct AgentManifest: Sendable, Equatable {
    public enum Task: String, Sendable, CaseIterable { case predict, classify, extract }
    public enum Priority: String, Sendable, CaseIterable, Comparable {
        case interactive, normal, background
        /// Lower runs first.
        var rank: Int { self == .interactive ? 0 : self == .normal ? 1 : 2 }
        public static func < (lhs: Priority, rhs: Priority) -> Bool { lhs.rank < rhs.rank }
    }

    /// How the prompt reaches the model: as written, or as a turn of the model's chat template.
    public enum PromptStyle: String, Sendable, CaseIterable {
        /// `prompt` with the request's text at `{text}` is the model's whole input.
        case raw
        /// The model's chat template renders the conversation: `system` as the system turn (when
        /// given), `prompt` with the request's text at `{text}` as the user turn, and the
        /// assistant's turn opened for the answer.
        case chat
    }

    /// Sampling settings for generated text, as the worker protocol carries them.
    public typealias Sampling = SamplingParameters

    public var name: String
    public var task: Task
    /// The model file as written: a path relative to the manifest, an absolute path, or a file
    /// name looked up on the model search path.
    public var model: String
    /// The prompt template; `{text}` marks where the request's text goes (the user turn with
    /// `template = "chat"`).
    public var prompt: String
    public var template: PromptStyle
    /// The system turn (`template = "chat"`); nil leaves it to the template (some add a default).
    public var system: String?
    public var description: String?
    public var priority: Priority
    public var keepAlive: KeepAlive
    /// Classification labels, in order (task `classify`).
    public var labels: [String]?
    /// The JSON Schema of the output (task `extract`), inline or read from `schema_file`.
    public var schema: JSONValue?
    public var escalateBelow: Double?
    public var escalateTo: String?
    public var maxTokens: Int?
    public var stop: [String]
    /// Tokens of context for this agent's requests; nil: what it can use (AgentDemand), at most
    /// the model's trained length.
    public var contextLength: Int?
    /// The longest request text the agent accepts, in tokens; nil: AgentDemand.defaultMaxInputTokens.
    public var maxInputTokens: Int?
    /// Text longer than `maxInputTokens` is cut from the front instead of refused.
    public var truncate: Bool
    /// How the model's KV cache stores keys and values for this agent; nil: f16.
    public var kvCache: KVCacheType?
    public var sampling: Sampling
    /// The file this manifest was read from.
    public var manifestPath: String
    /// Worked examples (`examples` or `examples_file`): the first `shots` are turns of the prompt;
    /// a classify agent's also train its head.
    public var examples: [AgentExample] = []
    /// How many examples, from the first, the prompt shows as turns.
    public var shots: Int = 0
    /// Its requests' numbers (tokens, probabilities) do not depend on the requests decoded beside
    /// them: every pass of theirs multiplies with the batch kernels, also alone, which costs a
    /// request that runs alone some speed (README "How requests are served").
    public var reproducible = false

    /// The folder relative model paths and schema files are found in.
    public var directory: String { FilePath(manifestPath).removingLastComponent().string }

    /// The shape `io.kanso.Agents.List` gives for this agent in `state`.
    public func info(state: String) -> AgentInfo {
        AgentInfo(name: name, task: task.rawValue, model: model, state: state, priority: priority.rawValue,
                  keepAlive: keepAlive.description, description: description, labels: labels)
    }
}
