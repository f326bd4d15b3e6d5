/// The energy an agent's requests used, and what it got for it (DESIGN.md: reported per agent
/// as joules and tokens per joule).
public struct EnergyTotals: Sendable, Equatable {
    /// Energy of all recorded requests, J.
    public var joules: Double = 0
    /// Tokens processed by them (prompt and generated, as the pool counts them).
    public var tokens: Int = 0
    public var requests: Int = 0
    /// How many of the requests were measured with RAPL; the rest are CPU-time estimates.
    public var raplRequests: Int = 0

    public init() {}

    public init(joules: Double, tokens: Int, requests: Int, raplRequests: Int = 0) {
        self.joules = joules
        self.tokens = tokens
        self.requests = requests
        self.raplRequests = raplRequests
    }

    /// Tokens per joule; nil before any energy was recorded.
    public var tokensPerJoule: Double? { joules > 0 ? Double(tokens) / joules : nil }

    /// Adds one request. Negative or non-finite energies and negative token counts are dropped as
    /// measurement errors rather than corrupting the totals.
    public mutating func add(joules requestJoules: Double, tokens requestTokens: Int, method: EnergyMeasurement.Method) {
        guard requestJoules.isFinite, requestJoules >= 0, requestTokens >= 0 else { return }
        joules += requestJoules
        tokens += requestTokens
        requests += 1
        if method == .rapl { raplRequests += 1 }
    }

    public mutating func add(_ measurement: EnergyMeasurement, tokens requestTokens: Int) {
        add(joules: measurement.joules, tokens: requestTokens, method: measurement.method)
    }

    public static func + (left: EnergyTotals, right: EnergyTotals) -> EnergyTotals {
        EnergyTotals(joules: left.joules + right.joules, tokens: left.tokens + right.tokens,
                     requests: left.requests + right.requests, raplRequests: left.raplRequests + right.raplRequests)
    }
}

/// `EnergyTotals` for every agent, kept by the pool and shown in status.
public struct EnergyLedger: Sendable, Equatable {
    public private(set) var agents: [String: EnergyTotals] = [:]

    public init() {}

    /// Records one request of `agent`.
    public mutating func record(agent: String, _ measurement: EnergyMeasurement, tokens: Int) {
        agents[agent, default: EnergyTotals()].add(measurement, tokens: tokens)
    }

    /// The totals of one agent; zero totals when it has none yet.
    public subscript(agent: String) -> EnergyTotals { agents[agent] ?? EnergyTotals() }

    /// Everything together.
    public var total: EnergyTotals { agents.values.reduce(EnergyTotals(), +) }
}
