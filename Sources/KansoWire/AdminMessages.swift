/// Parameters and results of `io.kanso.Admin`, shared by the daemon and `kansoctl`.

/// `io.kanso.Admin.ManifestProblem`: a manifest that could not be loaded.
public struct ManifestProblemInfo: Codable, Sendable, Equatable {
    public var file: String
    public var key: String?
    public var message: String
    public init(file: String, key: String?, message: String) {
        self.file = file
        self.key = key
        self.message = message
    }
}

/// `io.kanso.Admin.AgentStatus`.
public struct AgentStatusInfo: Codable, Sendable, Equatable {
    public var name: String
    public var task: String
    public var model: String
    public var modelPath: String?
    public var modelBytes: Int?
    public var state: String
    public var reason: String?
    public var priority: String
    public var keepAlive: String
    public var manifest: String

    public init(name: String, task: String, model: String, modelPath: String?, modelBytes: Int?,
                state: String, reason: String?, priority: String, keepAlive: String, manifest: String) {
        self.name = name
        self.task = task
        self.model = model
        self.modelPath = modelPath
        self.modelBytes = modelBytes
        self.state = state
        self.reason = reason
        self.priority = priority
        self.keepAlive = keepAlive
        self.manifest = manifest
    }
}

/// `io.kanso.Admin.ModelStatus`.
public struct ModelStatusInfo: Codable, Sendable, Equatable {
    public var path: String
    public var state: String
    public var reason: String?
    public var pid: Int?
    public var estimatedBytes: Int
    public var measuredBytes: Int?
    /// What the budget holds for the model now (the estimate until a load is measured).
    public var chargedBytes: Int?
    /// The context (positions) and KV cache type its worker loads with, from its agents.
    public var contextLength: Int?
    public var kvCache: String?
    public var agents: [String]
    public var queued: Int
    public var requests: Int
    public var generatedTokens: Int
    public var loadMilliseconds: Double?
    public var idleSeconds: Double?
    public var unloadInSeconds: Double?
    public var evictions: Int
    public var lastEvictionReason: String?
    /// Interactive requests started while a normal or background one ran on the model (they
    /// joined its passes instead of waiting for it).
    public var preemptions: Int?
    /// Requests its worker runs now, decoded together, and how many it may run at once (its lanes).
    public var running: Int?
    public var sequences: Int?

    public init(path: String, state: String, reason: String?, pid: Int?, estimatedBytes: Int, measuredBytes: Int?,
                agents: [String], queued: Int, requests: Int, generatedTokens: Int, loadMilliseconds: Double?,
                idleSeconds: Double?, unloadInSeconds: Double?, evictions: Int, lastEvictionReason: String?,
                chargedBytes: Int? = nil, contextLength: Int? = nil, kvCache: String? = nil, preemptions: Int? = nil,
                running: Int? = nil, sequences: Int? = nil) {
        self.path = path
        self.preemptions = preemptions
        self.running = running
        self.sequences = sequences
        self.chargedBytes = chargedBytes
        self.contextLength = contextLength
        self.kvCache = kvCache
        self.state = state
        self.reason = reason
        self.pid = pid
        self.estimatedBytes = estimatedBytes
        self.measuredBytes = measuredBytes
        self.agents = agents
        self.queued = queued
        self.requests = requests
        self.generatedTokens = generatedTokens
        self.loadMilliseconds = loadMilliseconds
        self.idleSeconds = idleSeconds
        self.unloadInSeconds = unloadInSeconds
        self.evictions = evictions
        self.lastEvictionReason = lastEvictionReason
    }
}

/// One `io.kanso.Admin.Watch` reply: a pool event, as the pool publishes it.
public struct PoolEventInfo: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        /// A model's lifecycle state changed (`from` → `to`).
        case state
        /// An idle model was evicted to make room for another.
        case eviction
        /// The power profile changed (`from` → `to`).
        case power
    }
    public var kind: Kind
    /// The model's path; empty for power events.
    public var model: String
    public var from: String?
    public var to: String?
    public var reason: String
    /// Seconds since 1970.
    public var time: Double
    public init(kind: Kind, model: String, from: String?, to: String?, reason: String, time: Double) {
        self.kind = kind
        self.model = model
        self.from = from
        self.to = to
        self.reason = reason
        self.time = time
    }
}

/// `io.kanso.Admin.PowerStatus`.
public struct PowerStatusInfo: Codable, Sendable, Equatable {
    public var profile: String
    public var reason: String
    public var threadsPerWorker: Int
    public var maximumConcurrentWorkers: Int
    public var keepAliveScale: Double
    public var backgroundAllowed: Bool
    public var memoryPressure: Bool
    /// The watt cap (--watt-cap), when one is set.
    public var wattCap: WattCapInfo?
    public init(profile: String, reason: String, threadsPerWorker: Int, maximumConcurrentWorkers: Int,
                keepAliveScale: Double, backgroundAllowed: Bool, memoryPressure: Bool, wattCap: WattCapInfo? = nil) {
        self.wattCap = wattCap
        self.profile = profile
        self.reason = reason
        self.threadsPerWorker = threadsPerWorker
        self.maximumConcurrentWorkers = maximumConcurrentWorkers
        self.keepAliveScale = keepAliveScale
        self.backgroundAllowed = backgroundAllowed
        self.memoryPressure = memoryPressure
    }
}

/// `io.kanso.Admin.WattCap`: the cap, the measured average over its window, what it pauses and
/// how hard it throttles the workers.
public struct WattCapInfo: Codable, Sendable, Equatable {
    public var capWatts: Double
    /// Nil before the first measurement.
    public var averageWatts: Double?
    public var backgroundPaused: Bool
    public var normalPaused: Bool
    /// The fraction of each throttle period the workers run (1: not throttled); nil from a
    /// daemon that does not throttle.
    public var duty: Double?
    /// Where the cap comes from: "--watt-cap" or a power profile ("battery profile").
    public var source: String?
    public init(capWatts: Double, averageWatts: Double?, backgroundPaused: Bool, normalPaused: Bool, duty: Double? = nil,
                source: String? = nil) {
        self.capWatts = capWatts
        self.averageWatts = averageWatts
        self.backgroundPaused = backgroundPaused
        self.normalPaused = normalPaused
        self.duty = duty
        self.source = source
    }
}

/// `io.kanso.Admin.AgentEnergy`.
public struct AgentEnergyInfo: Codable, Sendable, Equatable {
    public var agent: String
    public var joules: Double
    public var tokens: Int
    public var requests: Int
    public var tokensPerJoule: Double?
    public init(agent: String, joules: Double, tokens: Int, requests: Int, tokensPerJoule: Double?) {
        self.agent = agent
        self.joules = joules
        self.tokens = tokens
        self.requests = requests
        self.tokensPerJoule = tokensPerJoule
    }
}

/// `io.kanso.Admin.Budget`, in bytes.
public struct BudgetInfo: Codable, Sendable, Equatable {
    public var bytes: Int
    public var usedBytes: Int
    public var source: String
    /// The spare worker (started ahead for the next load), if one runs, and the bytes it holds.
    public var spareWorkerPid: Int?
    public var spareWorkerBytes: Int?
    public init(bytes: Int, usedBytes: Int, source: String, spareWorkerPid: Int? = nil, spareWorkerBytes: Int? = nil) {
        self.bytes = bytes
        self.usedBytes = usedBytes
        self.source = source
        self.spareWorkerPid = spareWorkerPid
        self.spareWorkerBytes = spareWorkerBytes
    }
}

/// `io.kanso.Admin.Omitted`: how many entries of each list a reply left out to stay within the
/// message limit.
public struct OmittedEntries: Codable, Sendable, Equatable {
    public var agents: Int
    public var models: Int
    public var problems: Int
    public var energy: Int
    public init(agents: Int = 0, models: Int = 0, problems: Int = 0, energy: Int = 0) {
        self.agents = agents
        self.models = models
        self.problems = problems
        self.energy = energy
    }
}

/// Result of `io.kanso.Admin.Status`.
public struct StatusReply: Codable, Sendable, Equatable {
    public var version: String
    public var pid: Int
    public var state: String
    public var uptimeSeconds: Double
    public var activation: String
    public var socket: String
    public var agentsDirectory: String
    public var modelSearchPath: [String]
    public var agents: [AgentStatusInfo]
    public var models: [ModelStatusInfo]
    public var problems: [ManifestProblemInfo]
    public var budget: BudgetInfo
    public var power: PowerStatusInfo?
    public var energy: [AgentEnergyInfo]
    public var connections: Int
    public var calls: Int
    public var loadedAt: Double
    /// Set when lists were cut to fit the message limit.
    public var omitted: OmittedEntries?

    public init(version: String, pid: Int, state: String, uptimeSeconds: Double, activation: String,
                socket: String, agentsDirectory: String, modelSearchPath: [String], agents: [AgentStatusInfo],
                models: [ModelStatusInfo], problems: [ManifestProblemInfo], budget: BudgetInfo, power: PowerStatusInfo?, energy: [AgentEnergyInfo], connections: Int, calls: Int, loadedAt: Double) {
        self.version = version
        self.pid = pid
        self.state = state
        self.uptimeSeconds = uptimeSeconds
        self.activation = activation
        self.socket = socket
        self.agentsDirectory = agentsDirectory
        self.modelSearchPath = modelSearchPath
        self.agents = agents
        self.models = models
        self.problems = problems
        self.budget = budget
        self.power = power
        self.energy = energy
        self.connections = connections
        self.calls = calls
        self.loadedAt = loadedAt
    }
}

/// Result of `io.kanso.Admin.Reload`.
public struct ReloadReply: Codable, Sendable, Equatable {
    public var agents: Int
    public var added: [String]
    public var removed: [String]
    public var problems: [ManifestProblemInfo]
    /// Problems left out to fit the message limit, when any were.
    public var problemsOmitted: Int?
    public init(agents: Int, added: [String], removed: [String], problems: [ManifestProblemInfo], problemsOmitted: Int? = nil) {
        self.agents = agents
        self.added = added
        self.removed = removed
        self.problems = problems
        self.problemsOmitted = problemsOmitted
    }
}

/// Result of `org.varlink.service.GetInfo`.
public struct ServiceInfoReply: Codable, Sendable, Equatable {
    public var vendor: String
    public var product: String
    public var version: String
    public var url: String
    public var interfaces: [String]
    public init(vendor: String, product: String, version: String, url: String, interfaces: [String]) {
        self.vendor = vendor
        self.product = product
        self.version = version
        self.url = url
        self.interfaces = interfaces
    }
}

/// The version every Kanso binary reports.
public enum KansoVersion {
    public static let current = "0.1.0"
}
