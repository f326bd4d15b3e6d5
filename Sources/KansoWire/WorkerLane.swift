/// The two channels between the supervisor and a worker (each its own socketpair, speaking
/// `io.kanso.Worker`): the main lane carries every job; the interjection lane carries an
/// interactive request that pre-empts the job running on the main lane (DESIGN.md, Queues).
///
/// The worker runs a call of the interjection lane at the next token boundary of the main lane's
/// generation (that generation's cache and sampler are kept, and it resumes after), or as its next
/// job when no generation runs. Each lane has one job at a time, its own replies and its own
/// Cancel, so streaming and cancellation stay per request.
public enum WorkerLane: Int, Sendable, CaseIterable, CustomStringConvertible {
    case main = 0
    case interjection = 1

    /// The descriptor the worker process finds the lane's socket on, given the main lane's (3).
    public func descriptor(main: Int32) -> Int32 { main + Int32(rawValue) }

    public var description: String {
        switch self {
        case .main: return "main"
        case .interjection: return "interjection"
        }
    }
}
