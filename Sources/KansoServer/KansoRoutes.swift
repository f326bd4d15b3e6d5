import Glibc
import KansoPool
import KansoWire

/// The daemon's route table: introspection, `io.kanso.Agents`, `io.kanso.Admin`.
public enum KansoRoutes {
    /// What the routes read and call into.
    public struct Context: Sendable {
        public var registry: AgentRegistry
        public var agents: AgentService
        public var lifecycle: DaemonLifecycle
        public var statistics: ServerStatistics
        public var budget: MemoryBudget
        public var socketDescription: String
        public var activation: String
        public var modelSearchPath: [String]
        public var startedAt: WallTime
        /// Re-reads the manifests with the systemd notifications around it.
        public var reload: @Sendable () async -> AgentRegistry.ReloadOutcome

        public init(registry: AgentRegistry, agents: AgentService, lifecycle: DaemonLifecycle, statistics: ServerStatistics,
                    budget: MemoryBudget, socketDescription: String, activation: String, modelSearchPath: [String],
                    startedAt: WallTime, reload: @escaping @Sendable () async -> AgentRegistry.ReloadOutcome) {
            self.registry = registry
            self.agents = agents
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

        table.add("io.kanso.Agents.List") { call, _, writer in
            let after = try Parameters(call, allowed: ["after"]).optionalString("after")
            let states = await modelStates(context)
            let agents = await context.registry.agentInfos().filter { after == nil || $0.name > after! }.map { agent in
                var agent = agent
                if agent.state == "absent", let state = states[agent.name] { agent.state = state }
                return agent
            }
            try await writer.send(ReplyBudget.page(of: agents, maximumBytes: writer.maximumBytes))
        }
        addJobs(to: &table, context)
        addAdministration(to: &table, context)

        table.add("io.kanso.Admin.Status", access: .admin) { call, _, writer in
            _ = try Parameters(call, allowed: [])
            // two hops in all: one reading of the registry, one of the pool (whose spare pid and bytes agree)
            let (catalog, agents) = await context.registry.statusReading()
            let pool = await context.agents.pool.statusReading()
            let status = StatusReply(
                version: KansoVersion.current, pid: Int(getpid()), state: context.lifecycle.state.rawValue,
                uptimeSeconds: WallTime.now.seconds(since: context.startedAt), activation: context.activation,
                socket: context.socketDescription, agentsDirectory: catalog.directory,
                modelSearchPath: context.modelSearchPath, agents: withModelStates(agents, pool.models),
                models: pool.models,
                problems: catalog.problems.map(\.info),
                budget: BudgetInfo(bytes: context.budget.bytes, usedBytes: pool.residentBytes,
                                   source: context.budget.source.rawValue,
                                   spareWorkerPid: pool.spareWorker.map { Int($0.pid) }, spareWorkerBytes: pool.spareWorker?.bytes),
                power: pool.power.map { Self.info($0, wattCap: pool.wattCap) },
                energy: pool.energy.agents.sorted { $0.key < $1.key }.map { agent, totals in
                    AgentEnergyInfo(agent: agent, joules: totals.joules, tokens: totals.tokens, requests: totals.requests,
                                    tokensPerJoule: totals.tokensPerJoule)
                },
                connections: context.statistics.connections, calls: context.statistics.calls,
                loadedAt: catalog.loadedAt.secondsSince1970)
            try await writer.send(ReplyBudget.fit(status, maximumBytes: writer.maximumBytes))
        }
        table.add("io.kanso.Admin.Reload", access: .admin) { call, _, writer in
            _ = try Parameters(call, allowed: [])
            let outcome = await context.reload()
            let reply = ReloadReply(agents: outcome.catalog.entries.count, added: outcome.added,
                                    removed: outcome.removed, problems: outcome.catalog.problems.map(\.info))
            try await writer.send(ReplyBudget.fit(reply, maximumBytes: writer.maximumBytes))
        }
        return table
    }

    /// `io.kanso.Agents.Predict`, `Classify`, `Extract`.
    static func addJobs(to table: inout RouteTable, _ context: Context) {
        table.add("io.kanso.Agents.Predict") { call, _, writer in
            let parameters = try Parameters(call, allowed: ["agent", "text", "words", "maxTokens"])
            let agent = try parameters.string("agent")
            let text = try requireText(parameters)
            if let words = try parameters.optionalInt("words") {
                try await writer.send(try await run { try await context.agents.nextWords(agent: agent, text: text, count: words) })
                return
            }
            let maxTokens = try parameters.optionalInt("maxTokens")
            let final = try await run {
                try await context.agents.generate(agent: agent, text: text, maxTokens: maxTokens, streaming: writer.streams) { piece in
                    try await writer.send(PredictReply(agent: agent, text: piece, done: false), continues: true)
                }
            }
            try await writer.send(final)
        }
        table.add("io.kanso.Agents.Classify") { call, _ in
            let parameters = try Parameters(call, allowed: ["agent", "text"])
            let agent = try parameters.string("agent")
            let text = try requireText(parameters)
            return try await run { try await context.agents.classify(agent: agent, text: text) }
        }
        table.add("io.kanso.Agents.Extract") { call, _ in
            let parameters = try Parameters(call, allowed: ["agent", "text"])
            let agent = try parameters.string("agent")
            let text = try requireText(parameters)
            return try await run { try await context.agents.extract(agent: agent, text: text) }
        }
    }

    /// `io.kanso.Admin.Load`, `Unload`, `Watch`.
    static func addAdministration(to table: inout RouteTable, _ context: Context) {
        table.add("io.kanso.Admin.Load", access: .admin) { call, _ in
            let agent = try Parameters(call, allowed: ["agent"]).string("agent")
            return ["model": try await run { try await context.agents.load(agent: agent) }]
        }
        table.add("io.kanso.Admin.Unload", access: .admin) { call, _ in
            let agent = try Parameters(call, allowed: ["agent"]).string("agent")
            return ["unloaded": try await run { try await context.agents.unload(agent: agent) }]
        }
        table.add("io.kanso.Admin.Watch", access: .admin) { call, _, writer in
            _ = try Parameters(call, allowed: [])
            guard writer.streams else { throw VarlinkError.expectedMore() }
            for await event in context.agents.pool.subscribe() {
                try Task.checkCancellation()
                try await writer.send(event, continues: true)
            }
        }
    }

    /// The request's text: present, not empty.
    static func requireText(_ parameters: Parameters) throws -> String {
        let text = try parameters.string("text")
        guard !text.isEmpty else { throw VarlinkError.invalidInput(field: "text", reason: "the text is empty") }
        return text
    }

    /// Runs a job, turning the pool's errors into their Varlink errors.
    static func run<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as PoolError {
            throw error.varlinkError
        }
    }

    static func info(_ decision: PowerDecision, wattCap: WattCapDecision? = nil) -> PowerStatusInfo {
        PowerStatusInfo(profile: decision.profile.rawValue, reason: decision.reason,
                        threadsPerWorker: decision.settings.threadsPerWorker,
                        maximumConcurrentWorkers: decision.settings.maximumConcurrentWorkers,
                        keepAliveScale: decision.settings.keepAliveScale, backgroundAllowed: decision.settings.backgroundAllowed,
                        memoryPressure: decision.memoryPressure,
                        wattCap: wattCap.map { WattCapInfo(capWatts: $0.capWatts, averageWatts: $0.averageWatts,
                                                           backgroundPaused: $0.pausesBackground, normalPaused: $0.pausesNormal,
                                                           duty: $0.duty, source: $0.source) })
    }

    /// Each agent's model state, for agents whose model the pool knows.
    static func modelStates(_ context: Context) async -> [String: String] {
        modelStates(await context.agents.pool.snapshot(), paths: await context.registry.modelPaths())
    }

    /// By the model file each agent names (`paths`: agent → path), so that an agent whose model
    /// was loaded, or failed, through another agent shows its state too; else by the agents the
    /// pool has served.
    static func modelStates(_ models: [ModelStatusInfo], paths: [String: String]) -> [String: String] {
        var states: [String: String] = [:]
        for model in models {
            for agent in model.agents { states[agent] = model.state }
        }
        let byPath = Dictionary(models.map { ($0.path, $0.state) }, uniquingKeysWith: { first, _ in first })
        for (agent, path) in paths {
            if let state = byPath[path] { states[agent] = state }
        }
        return states
    }

    /// The agents with the state of their model where the pool has it (an agent whose model is
    /// loaded is as ready, busy, … as its model).
    static func withModelStates(_ agents: [AgentStatusInfo], _ models: [ModelStatusInfo]) -> [AgentStatusInfo] {
        let paths = Dictionary(agents.compactMap { agent in agent.modelPath.map { (agent.name, $0) } }, uniquingKeysWith: { first, _ in first })
        let states = modelStates(models, paths: paths)
        return agents.map { agent in
            var agent = agent
            if agent.state == "absent", let state = states[agent.name] { agent.state = state }
            return agent
        }
    }
}
