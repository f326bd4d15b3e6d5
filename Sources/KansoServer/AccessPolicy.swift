import Glibc
import NIOConcurrencyHelpers

/// Who may call what: `io.kanso.Admin` belongs to root, the daemon's own user (which can signal
/// the daemon anyway; systemd's `ExecReload=kansoctl reload` runs as it) and the members of one
/// admin group; everything else to anyone who can open the socket (its file mode is the first gate).
public struct AccessPolicy: Sendable {
    /// The admin group's name, as configured (for messages).
    public let adminGroupName: String
    private let lookup: GroupLookup

    /// The group is looked up when a caller other than root or the daemon's user first needs
    /// it, not at start: a daemon administered by root only never loads the NSS modules
    /// (nss_systemd and its libraries were 0.3-0.5 MiB of the idle daemon), and a group created
    /// after the start (sysusers, groupadd) is found within `GroupLookup.retryInterval`.
    public init(adminGroupName: String) {
        self.adminGroupName = adminGroupName
        lookup = GroupLookup(name: adminGroupName)
    }

    public init(adminGroupName: String, adminGroupID: UInt32?) {
        self.adminGroupName = adminGroupName
        lookup = GroupLookup(fixed: adminGroupID, name: adminGroupName)
    }

    /// The admin group's gid, nil when no such group exists on this system (then only root and
    /// the daemon's user are admin). A numeric name is taken as a gid when no group has that name.
    public var adminGroupID: UInt32? { lookup.groupID() }

    public func isAdmin(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == getuid() { return true }
        guard let adminGroupID else { return false }
        return peer.groups().contains(adminGroupID)
    }
}

/// One group name's gid, resolved once found; a name not found is asked again after
/// `retryInterval`, so that each call of an unprivileged peer does not repeat an NSS lookup.
final class GroupLookup: Sendable {
    static let retryInterval: Duration = .seconds(10)

    private struct State {
        var found: UInt32?
        var lastMiss: ContinuousClock.Instant?
    }

    private let name: String
    /// Set when the gid was given rather than looked up (nil then means: no admin group).
    private let isFixed: Bool
    private let state: NIOLockedValueBox<State>

    init(name: String) {
        self.name = name
        isFixed = false
        state = NIOLockedValueBox(State())
    }

    init(fixed groupID: UInt32?, name: String) {
        self.name = name
        isFixed = true
        state = NIOLockedValueBox(State(found: groupID))
    }

    func groupID() -> UInt32? {
        state.withLockedValue { state in
            if let found = state.found { return found }
            if isFixed || name.isEmpty { return nil }
            if let lastMiss = state.lastMiss, ContinuousClock.now - lastMiss < Self.retryInterval { return nil }
            // getgrnam's result lives in a static buffer: read it under the lock.
            state.found = getgrnam(name).map { $0.pointee.gr_gid } ?? UInt32(name)
            if state.found == nil { state.lastMiss = .now }
            return state.found
        }
    }
}
