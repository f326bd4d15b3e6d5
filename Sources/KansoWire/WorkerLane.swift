/// The channels between the supervisor and a worker, one per sequence the worker may run at once
/// (each its own socketpair, speaking `io.kanso.Worker`; Varlink runs one call at a time on a
/// connection, so concurrency is more connections). Each lane carries one job at a time, with its
/// own replies and its own Cancel, so streaming and cancellation stay per request; the worker runs
/// the jobs of all lanes at once, their model evaluations sharing passes (continuous batching).
/// Lane 0, the main lane, carries the load too; its end means the supervisor is gone.
public struct WorkerLane: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let index: Int

    public init(_ index: Int) {
        self.index = index
    }

    public static let main = WorkerLane(0)

    /// Lanes a worker can be started with (descriptors 3 up to 3 + maximumCount - 1).
    public static let maximumCount = 64

    /// The descriptor the worker process finds the lane's socket on, given the main lane's (3).
    public func descriptor(main: Int32) -> Int32 { main + Int32(index) }

    public static func < (a: WorkerLane, b: WorkerLane) -> Bool { a.index < b.index }

    public var description: String { index == 0 ? "main" : "lane \(index)" }
}
