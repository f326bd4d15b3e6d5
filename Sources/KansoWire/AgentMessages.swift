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

/// Result of `io.kanso.Agents.List`.
public struct AgentListReply: Codable, Sendable, Equatable {
    public var agents: [AgentInfo]
    public init(agents: [AgentInfo]) { self.agents = agents }
}
