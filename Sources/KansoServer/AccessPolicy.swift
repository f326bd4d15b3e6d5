import Glibc
import KansoEngine

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
final class GroupLookup: @unchecked Sendable {  // state guarded by `lock`
    static let retryInterval: Duration = .seconds(10)

    private let name: String
    private let lock = Lock()
    private var found: UInt32?
    private var lastMiss: ContinuousClock.Instant?
    /// Set when the gid was given rather than looked up (nil then means: no admin group).
    private let isFixed: Bool

    init(name: String) {
        self.name = name
        isFixed = false
    }

    init(fixed groupID: UInt32?, name: String) {
        self.name = name
        found = groupID
        isFixed = true
    }

    func groupID() -> UInt32? {
        lock.withLock {
            if let found { return found }
            if isFixed || name.isEmpty { return nil }
            if let lastMiss, ContinuousClock.now - lastMiss < Self.retryInterval { return nil }
            if let entry = getgrnam(name) {
                found = entry.pointee.gr_gid
            } else {
                found = UInt32(name)
            }
            if found == nil { lastMiss = .now }
            return found
        }
    }
}
