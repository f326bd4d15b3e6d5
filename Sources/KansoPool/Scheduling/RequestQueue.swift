/// The requests waiting for one model (DESIGN.md, Scheduling: "one per model, ordered by
/// priority, FIFO within a priority, bounded; full means `Overloaded`").
///
/// `interactive` comes before `normal` before `background`; within one priority the earliest
/// pushed comes first. The bound counts every waiting request whatever its priority; a push
/// beyond it is refused with `.full` and the caller answers `Overloaded` (or, for a more urgent
/// request, first makes room with `displaceNewest(below:)`).
///
/// Layout: one FIFO lane per priority, an array of (sequence, id) with a moving head, plus a
/// dictionary from id to the waiting element. `remove(id:)` drops the dictionary entry and leaves a
/// tombstone in its lane; tombstones at either end of a lane are trimmed at once (so the front
/// of a lane is always live) and a lane is compacted when tombstones outnumber live entries.
/// Every operation is O(1) amortized; `elementsInOrder` and `removeAll` are O(n).
public struct RequestQueue<Element: Identifiable & Sendable>: Sendable where Element.ID: Sendable {
    public typealias Priority = AgentManifest.Priority

    /// The answer to a push.
    public enum PushResult: Sendable, Equatable {
        case queued
        /// `capacity` requests are already waiting: answer `Overloaded`.
        case full
        /// A request with the same id is already waiting; nothing changed.
        case duplicate
    }

    private struct Entry: Sendable {
        var element: Element
        var priority: Priority
        var sequence: UInt64
    }

    private struct Lane: Sendable {
        var slots: [(sequence: UInt64, id: Element.ID)] = []
        var head = 0
        var live = 0
        var isEmpty: Bool { head == slots.count }
    }

    /// The most requests that may wait at once (≥ 0; a negative bound is taken as 0).
    public let capacity: Int
    private var lanes = [Lane](repeating: Lane(), count: Priority.allCases.count)
    private var entries: [Element.ID: Entry] = [:]
    private var nextSequence: UInt64 = 0

    public init(capacity: Int) {
        self.capacity = max(capacity, 0)
    }

    /// Requests waiting now.
    public var count: Int { entries.count }
    public var isEmpty: Bool { entries.isEmpty }

    /// Waiting requests per priority; every priority is present, with 0 when none wait.
    public var countByPriority: [Priority: Int] {
        Dictionary(uniqueKeysWithValues: Priority.allCases.map { ($0, lanes[$0.rank].live) })
    }

    public func count(of priority: Priority) -> Int { lanes[priority.rank].live }

    /// The most urgent priority that has a request waiting (to decide whether it may take a lane
    /// of its worker now: ModelPool.pump); nil when the queue is empty.
    public var peekHighestPriority: Priority? {
        Priority.allCases.first { lanes[$0.rank].live > 0 }
    }

    /// The request `popNext()` would return, without removing it.
    public var peekNext: Element? {
        guard let priority = peekHighestPriority else { return nil }
        let lane = lanes[priority.rank]
        return entries[lane.slots[lane.head].id]?.element
    }

    public func contains(id: Element.ID) -> Bool { entries[id] != nil }

    /// The priority a waiting request was queued with.
    public func priority(of id: Element.ID) -> Priority? { entries[id]?.priority }

    /// Queues `element` behind every waiting request of the same or a more urgent priority.
    public mutating func push(_ element: Element, priority: Priority) -> PushResult {
        guard entries[element.id] == nil else { return .duplicate }
        guard entries.count < capacity else { return .full }
        let sequence = nextSequence
        nextSequence += 1
        entries[element.id] = Entry(element: element, priority: priority, sequence: sequence)
        lanes[priority.rank].slots.append((sequence, element.id))
        lanes[priority.rank].live += 1
        return .queued
    }

    /// Removes and returns the most urgent, earliest request; nil when none waits.
    public mutating func popNext() -> Element? {
        guard let priority = peekHighestPriority else { return nil }
        let rank = priority.rank
        let id = lanes[rank].slots[lanes[rank].head].id
        return take(id: id)
    }

    /// Removes a waiting request (its client disconnected or cancelled); nil when it is not here.
    @discardableResult
    public mutating func remove(id: Element.ID) -> Element? {
        guard entries[id] != nil else { return nil }
        return take(id: id)
    }

    /// Removes and returns the most recently queued request of the least urgent priority that is
    /// strictly less urgent than `priority`, so a more urgent request can take its place in a full
    /// queue (the displaced one is answered `Overloaded`). Nil when nothing less urgent waits.
    public mutating func displaceNewest(below priority: Priority) -> Element? {
        for candidate in Priority.allCases.reversed() where candidate > priority && lanes[candidate.rank].live > 0 {
            let lane = lanes[candidate.rank]
            return take(id: lane.slots[lane.slots.count - 1].id)
        }
        return nil
    }

    /// Every waiting request in the order `popNext()` would return them.
    public var elementsInOrder: [Element] {
        lanes.flatMap { lane in
            lane.slots[lane.head...].compactMap { slot -> Element? in
                guard let entry = entries[slot.id], entry.sequence == slot.sequence else { return nil }
                return entry.element
            }
        }
    }

    /// Empties the queue (the worker failed, or the daemon stops) and returns what waited, in order.
    public mutating func removeAll() -> [Element] {
        let waiting = elementsInOrder
        entries.removeAll()
        lanes = [Lane](repeating: Lane(), count: Priority.allCases.count)
        return waiting
    }

    // MARK: - Lanes

    private mutating func take(id: Element.ID) -> Element? {
        guard let entry = entries.removeValue(forKey: id) else { return nil }
        let rank = entry.priority.rank
        lanes[rank].live -= 1
        trim(rank)
        return entry.element
    }

    /// A slot is live when its id still waits with the same sequence (an id may be removed and
    /// pushed again; the old slot is then a tombstone).
    private func isLive(_ slot: (sequence: UInt64, id: Element.ID)) -> Bool {
        entries[slot.id]?.sequence == slot.sequence
    }

    /// Drops tombstones from both ends of a lane and compacts it when they dominate.
    private mutating func trim(_ rank: Int) {
        var lane = lanes[rank]
        lanes[rank] = Lane()  // keep the arrays uniquely referenced while editing
        while !lane.isEmpty, !isLive(lane.slots[lane.head]) { lane.head += 1 }
        while !lane.isEmpty, !isLive(lane.slots[lane.slots.count - 1]) { lane.slots.removeLast() }
        if lane.isEmpty {
            lane.slots.removeAll(keepingCapacity: true)
            lane.head = 0
        } else if lane.slots.count - lane.head > 2 * lane.live + 16 || lane.head > 16 && lane.head * 2 > lane.slots.count {
            lane.slots = lane.slots[lane.head...].filter { isLive($0) }
            lane.head = 0
        }
        lanes[rank] = lane
    }
}
