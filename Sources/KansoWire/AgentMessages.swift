/// Parameters and results of `io.kanso.Agents`, shared by the daemon and every client.
/// Field names are the wire names; optional fields are left out when absent.

/// `io.kanso.Agents.Agent`.
public struct AgentInfo: Codable, Sendable, Equatable {
    public var name: String
    public var task: String
    public var model: String
    public var state: String
    public var priority: String
    public var keepAlive: String
    public var description: String?
    public var labels: [String]?

    public init(name: String, task: String, model: String, state: String, priority: String,
                keepAlive: String, description: String? = nil, labels: [String]? = nil) {
        self.name = name
        self.task = task
        self.model = model
        self.state = state
        self.priority = priority
        self.keepAlive = keepAlive
        self.description = description
        self.labels = labels
    }
}

/// Result of `io.kanso.Agents.List`: one page of agents, in name order. `next` is set when more
/// follow (they did not fit in one message): call again with `after` set to it.
public struct AgentListReply: Codable, Sendable, Equatable {
    public var agents: [AgentInfo]
    public var next: String?
    public init(agents: [AgentInfo], next: String? = nil) {
        self.agents = agents
        self.next = next
    }
}

/// `io.kanso.Agents.LabelScore`.
public struct LabelScore: Codable, Sendable, Equatable {
    public var label: String
    public var probability: Double
    public init(label: String, probability: Double) {
        self.label = label
        self.probability = probability
    }
}

/// Result of `io.kanso.Agents.Predict` (one reply of a stream, or the whole answer).
public struct PredictReply: Codable, Sendable, Equatable {
    public var agent: String
    public var words: [WordCandidate]?
    public var text: String?
    public var done: Bool
    public var stopReason: String?
    public var generatedTokens: Int?
    public init(agent: String, words: [WordCandidate]? = nil, text: String? = nil, done: Bool,
                stopReason: String? = nil, generatedTokens: Int? = nil) {
        self.agent = agent
        self.words = words
        self.text = text
        self.done = done
        self.stopReason = stopReason
        self.generatedTokens = generatedTokens
    }
}

/// Result of `io.kanso.Agents.Classify`.
public struct ClassifyReply: Codable, Sendable, Equatable {
    public var agent: String
    public var label: String
    public var confidence: Double
    public var labels: [LabelScore]
    public var needsEscalation: Bool
    public var escalatedFrom: String?
    public init(agent: String, label: String, confidence: Double, labels: [LabelScore], needsEscalation: Bool, escalatedFrom: String?) {
        self.agent = agent
        self.label = label
        self.confidence = confidence
        self.labels = labels
        self.needsEscalation = needsEscalation
        self.escalatedFrom = escalatedFrom
    }
}

/// Result of `io.kanso.Agents.Extract`.
public struct ExtractReply: Codable, Sendable, Equatable {
    public var agent: String
    public var value: JSONValue
    public init(agent: String, value: JSONValue) {
        self.agent = agent
        self.value = value
    }
}
