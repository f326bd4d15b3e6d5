import Foundation
import KansoPool
import KansoWire

/// The daemon's route table: introspection, `io.kanso.Agents`, `io.kanso.Admin`.
public enum KansoRoutes {
    /// What the routes read and call into.
    public struct Context: Sendable {
        public var registry: AgentRegistry
        public var lifecycle: DaemonLifecycle
        public var statistics: ServerStatistics
        public var budget: MemoryBudget
        public var socketDescription: String
        public var activation: String
        public var modelSearchPath: [String]
        public var startedAt: Date
        /// Re-reads the manifests with the systemd notifications around it.
        public var reload: @Sendable () async -> AgentRegistry.ReloadOutcome

        public init(registry: AgentRegistry, lifecycle: DaemonLifecycle, statistics: ServerStatistics,
                    budget: MemoryBudget, socketDescription: String, activation: String, modelSearchPath: [String],
                    startedAt: Date, reload: @escaping @Sendable () async -> AgentRegistry.ReloadOutcome) {
            self.registry = registry
            self.lifecycle = lifecycle
            self.statistics = statistics
            self.budget = budget
            self.socketDescription = socketDescription
            self.activation = activation
            self.modelSearchPath = modelSearchPath
            self.startedAt = startedAt
            self.reload = reload
        }
    }

    public static func make(_ context: Context) -> RouteTable {
        var table = RouteTable()

        table.add("org.varlink.service.GetInfo") { call, _ in
            _ = try Parameters(call, allowed: [])
            return ServiceInfoReply(vendor: "Kanso", product: "kansod", version: KansoVersion.current,
                                    url: "https://kanso.invalid/", interfaces: InterfaceDescriptions.names)
        }
        table.add("org.varlink.service.GetInterfaceDescription") { call, _ in
            let name = try Parameters(call, allowed: ["interface"]).string("interface")
            guard let text = InterfaceDescriptions.all[name] else { throw VarlinkError.interfaceNotFound(name) }
            return ["description": text]
        }

        table.add("io.kanso.Agents.List") { call, _ in
            _ = try Parameters(call, allowed: [])
            return AgentListReply(agents: await context.registry.agentInfos())
        }

        table.add("io.kanso.Admin.Status", access: .admin) { call, _ in
            _ = try Parameters(call, allowed: [])
            let catalog = await context.registry.catalog
            return StatusReply(
                version: KansoVersion.current, pid: Int(getpid()), state: context.lifecycle.state.rawValue,
                uptimeSeconds: Date().timeIntervalSince(context.startedAt), activation: context.activation,
                socket: context.socketDescription, agentsDirectory: catalog.directory,
                modelSearchPath: context.modelSearchPath, agents: await context.registry.agentStatuses(),
                problems: catalog.problems.map(\.info),
                budget: BudgetInfo(bytes: context.budget.bytes, usedBytes: 0, source: context.budget.source.rawValue),
                connections: context.statistics.connections, calls: context.statistics.calls,
                loadedAt: catalog.loadedAt.timeIntervalSince1970)
        }
        table.add("io.kanso.Admin.Reload", access: .admin) { call, _ in
            _ = try Parameters(call, allowed: [])
            let outcome = await context.reload()
            return ReloadReply(agents: outcome.catalog.entries.count, added: outcome.added,
                               removed: outcome.removed, problems: outcome.catalog.problems.map(\.info))
        }
        return table
    }
}
