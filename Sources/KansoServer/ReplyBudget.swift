import KansoWire

/// Room left in one reply message, for replies whose lists can grow without bound (agents,
/// manifest problems): each list takes the entries that still fit, in order, and the reply says
/// how many it left out. Sizes are exact: an array's encoding is its entries' encodings, comma
/// separated, inside brackets, so each entry is measured once on its own.
struct ReplyBudget {
    private(set) var remainingBytes: Int

    /// The room a message of `maximumBytes` leaves beside `skeleton`, the reply with every
    /// shaped list empty and every marker at its largest.
    init<Skeleton: Encodable>(maximumBytes: Int, skeleton: Skeleton) {
        let envelope = (try? VarlinkCodec.frame(["parameters": skeleton]).count) ?? maximumBytes
        remainingBytes = maximumBytes - envelope
    }

    /// The longest prefix of `entries` that fits in the room left, which it takes.
    mutating func prefix<Entry: Encodable>(of entries: [Entry]) -> [Entry] {
        var taken = 0
        for entry in entries {
            // The entry, and a comma before every entry but the first.
            let bytes = Self.encodedSize(entry) + (taken > 0 ? 1 : 0)
            guard bytes <= remainingBytes else { break }
            remainingBytes -= bytes
            taken += 1
        }
        return Array(entries.prefix(taken))
    }

    static func encodedSize<Entry: Encodable>(_ entry: Entry) -> Int {
        // frame() appends the NUL terminator.
        ((try? VarlinkCodec.frame(entry).count) ?? Int.max / 2) - 1
    }
}

extension ReplyBudget {
    /// One page of `List`: the agents that fit after the skeleton, and the name to continue
    /// after when some did not.
    static func page(of agents: [AgentInfo], maximumBytes: Int) -> AgentListReply {
        // The marker at its largest: as long as the longest name.
        let skeleton = AgentListReply(agents: [], next: String(repeating: "x", count: agents.map { $0.name.utf8.count }.max() ?? 0))
        var budget = ReplyBudget(maximumBytes: maximumBytes, skeleton: skeleton)
        let page = budget.prefix(of: agents)
        guard page.count < agents.count else { return AgentListReply(agents: page) }
        // An agent too large for a message on its own is skipped rather than never passed.
        let next = page.last?.name ?? agents[0].name
        return AgentListReply(agents: page, next: next)
    }

    /// `Status` cut to fit: models first (few, and what an operator looks for), then agents,
    /// manifest problems and energy figures; `omitted` counts what was left out.
    static func fit(_ status: StatusReply, maximumBytes: Int) -> StatusReply {
        var skeleton = status
        skeleton.agents = []
        skeleton.models = []
        skeleton.problems = []
        skeleton.energy = []
        skeleton.omitted = OmittedEntries(agents: Int.max, models: Int.max, problems: Int.max, energy: Int.max)
        var budget = ReplyBudget(maximumBytes: maximumBytes, skeleton: skeleton)
        var fitted = status
        fitted.models = budget.prefix(of: status.models)
        fitted.agents = budget.prefix(of: status.agents)
        fitted.problems = budget.prefix(of: status.problems)
        fitted.energy = budget.prefix(of: status.energy)
        let omitted = OmittedEntries(agents: status.agents.count - fitted.agents.count, models: status.models.count - fitted.models.count,
                                     problems: status.problems.count - fitted.problems.count,
                                     energy: status.energy.count - fitted.energy.count)
        fitted.omitted = omitted == OmittedEntries() ? nil : omitted
        return fitted
    }

    /// `Reload`'s problems cut to fit, with how many were left out.
    static func fit(_ reload: ReloadReply, maximumBytes: Int) -> ReloadReply {
        var skeleton = reload
        skeleton.problems = []
        skeleton.problemsOmitted = Int.max
        var budget = ReplyBudget(maximumBytes: maximumBytes, skeleton: skeleton)
        var fitted = reload
        fitted.problems = budget.prefix(of: reload.problems)
        let omitted = reload.problems.count - fitted.problems.count
        fitted.problemsOmitted = omitted > 0 ? omitted : nil
        return fitted
    }
}
