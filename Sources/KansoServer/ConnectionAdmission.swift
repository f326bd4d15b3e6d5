import KansoWire
import NIOConcurrencyHelpers

/// How many connections the socket keeps open: in all, and per user (SO_PEERCRED's uid), with
/// the last few places kept for administrators, so that one user's flood of idle connections
/// can neither starve the others nor lock out `kansoctl status`. A connection over a limit gets
/// `io.kanso.Protocol.TooManyConnections` and is closed.
final class ConnectionAdmission: Sendable {
    struct Limits: Sendable, Equatable {
        /// Connections open at once, administrators' included.
        var total: Int
        /// Connections one non-administrator uid may hold.
        var perUser: Int
        /// Of `total`, places only administrators (root, the daemon's user, the admin group) may take.
        var adminReserve: Int
        /// Refused connections that may wait at once for their error to be read (each holds a
        /// descriptor for up to a second); more are closed without it.
        var refusalsPending = 64
    }

    /// Why a connection is refused: which limit, and its value.
    struct Refusal: Sendable, Equatable {
        var scope: String
        var limit: Int
        var error: VarlinkError { .tooManyConnections(scope: scope, limit: limit) }
    }

    private struct Counts {
        var total = 0
        var byUser: [UInt32: Int] = [:]
        var refusalsPending = 0
        /// Connections refused since `takeRefusedCount` was last asked (for the log).
        var refused = 0
    }

    let limits: Limits
    private let counts = NIOLockedValueBox(Counts())

    init(limits: Limits) {
        self.limits = limits
    }

    /// Takes a place for a peer, or says why there is none. An admitted connection gives its
    /// place back with `release(uid:)` when it closes.
    func admit(uid: UInt32, isAdmin: Bool) -> Refusal? {
        counts.withLockedValue { counts in
            var refusal: Refusal?
            let ordinary = max(0, limits.total - limits.adminReserve)
            if counts.total >= limits.total {
                refusal = Refusal(scope: "total", limit: limits.total)
            } else if !isAdmin, counts.total >= ordinary {
                refusal = Refusal(scope: "total", limit: ordinary)
            } else if !isAdmin, counts.byUser[uid, default: 0] >= limits.perUser {
                refusal = Refusal(scope: "user", limit: limits.perUser)
            }
            if refusal != nil {
                counts.refused += 1
                return refusal
            }
            counts.total += 1
            counts.byUser[uid, default: 0] += 1
            return nil
        }
    }

    /// Connections refused since the last time this was asked.
    func takeRefusedCount() -> Int {
        counts.withLockedValue { counts in
            defer { counts.refused = 0 }
            return counts.refused
        }
    }

    func release(uid: UInt32) {
        counts.withLockedValue { counts in
            counts.total -= 1
            let left = counts.byUser[uid, default: 1] - 1
            counts.byUser[uid] = left > 0 ? left : nil
        }
    }

    /// Whether a refused connection may wait for its error to be read (then `refusalEnded()`
    /// follows), or must be closed at once.
    func beginRefusal() -> Bool {
        counts.withLockedValue { counts in
            guard counts.refusalsPending < limits.refusalsPending else { return false }
            counts.refusalsPending += 1
            return true
        }
    }

    func refusalEnded() {
        counts.withLockedValue { $0.refusalsPending -= 1 }
    }

    /// Connections open now: in all, and of the busiest user.
    var openConnections: (total: Int, busiestUser: Int) {
        counts.withLockedValue { ($0.total, $0.byUser.values.max() ?? 0) }
    }
}
