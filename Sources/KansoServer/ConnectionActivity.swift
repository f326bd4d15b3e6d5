/// What one connection is doing, as the timeouts see it: when it last moved, whether it holds
/// half a message, how many of its calls are unanswered, whether a reply waits on a client that
/// does not read. A pure value with the time passed in; the server's sweep asks `expiry(at:)`
/// once a second for every connection and closes the ones that have one.
struct ConnectionActivity: Sendable, Equatable {
    /// How long each kind of silence may last (VarlinkServer.Configuration sets them).
    struct Timeouts: Sendable, Equatable {
        /// No call running, nothing half sent: the connection is closed after this.
        var idle: Duration
        /// From the first byte of a message to its terminating NUL, while no call of the
        /// connection runs: a client that stops halfway gets `MessageTimeout` and is closed.
        var message: Duration
        /// A reply the client does not take (its socket buffer full) for this long: the call is
        /// cancelled and the connection closed, so a client that never reads holds neither a
        /// worker nor the daemon's memory.
        var write: Duration
    }

    /// Why a connection is closed by the sweep.
    enum Expiry: String, Sendable, Equatable {
        case idle = "idle"
        case partialMessage = "half a message"
        case writeStalled = "not reading its replies"
    }

    /// The last time bytes arrived, a call ended or a reply was taken.
    private(set) var lastActivity: ContinuousClock.Instant
    /// Since when the connection holds part of a message (bytes without their NUL), if it does.
    private(set) var partialSince: ContinuousClock.Instant?
    /// Messages received and not yet answered (the running call and those pipelined behind it).
    private(set) var unansweredCalls = 0
    /// Since when a reply write has been waiting for room in the client's socket, if one is.
    private(set) var writeWaitingSince: ContinuousClock.Instant?

    init(now: ContinuousClock.Instant) {
        lastActivity = now
    }

    /// Bytes arrived: `completed` whole messages, and `pendingBytes` of a message not yet whole.
    mutating func received(completed: Int, pendingBytes: Int, now: ContinuousClock.Instant) {
        lastActivity = now
        unansweredCalls += completed
        if pendingBytes == 0 {
            partialSince = nil
        } else if completed > 0 || partialSince == nil {
            partialSince = now  // a new message started
        }
    }

    /// One call was answered (or ended without an answer).
    mutating func answered(now: ContinuousClock.Instant) {
        unansweredCalls = max(0, unansweredCalls - 1)
        lastActivity = now
        // Half a message that arrived while the call ran has its full time from now.
        if partialSince != nil { partialSince = now }
    }

    mutating func writeStarted(now: ContinuousClock.Instant) {
        if writeWaitingSince == nil { writeWaitingSince = now }
    }

    mutating func writeFinished(now: ContinuousClock.Instant) {
        writeWaitingSince = nil
        lastActivity = now
    }

    /// No call unanswered and nothing half sent: what a draining server closes at once.
    var isQuiet: Bool { unansweredCalls == 0 && partialSince == nil }

    /// Whether the connection has overstayed one of the timeouts at `now`.
    func expiry(at now: ContinuousClock.Instant, timeouts: Timeouts) -> Expiry? {
        if let since = writeWaitingSince, now - since >= timeouts.write { return .writeStalled }
        guard unansweredCalls == 0 else { return nil }
        if let since = partialSince { return now - since >= timeouts.message ? .partialMessage : nil }
        return now - lastActivity >= timeouts.idle ? .idle : nil
    }
}
