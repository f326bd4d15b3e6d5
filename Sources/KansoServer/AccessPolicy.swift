import Glibc

/// Who may call what: `io.kanso.Admin` belongs to root, the daemon's own user (which can signal
/// the daemon anyway; systemd's `ExecReload=kansoctl reload` runs as it) and the members of one
/// admin group; everything else to anyone who can open the socket (its file mode is the first gate).
public struct AccessPolicy: Sendable {
    /// The admin group's name, as configured (for messages).
    public let adminGroupName: String
    /// Its gid, nil when no such group exists on this system (then only root is admin).
    public let adminGroupID: UInt32?

    public init(adminGroupName: String) {
        self.adminGroupName = adminGroupName
        if let entry = getgrnam(adminGroupName) {
            adminGroupID = entry.pointee.gr_gid
        } else {
            adminGroupID = UInt32(adminGroupName)
        }
    }

    public init(adminGroupName: String, adminGroupID: UInt32?) {
        self.adminGroupName = adminGroupName
        self.adminGroupID = adminGroupID
    }

    public func isAdmin(_ peer: PeerCredentials) -> Bool {
        if peer.uid == 0 || peer.uid == getuid() { return true }
        guard let adminGroupID else { return false }
        return peer.groups().contains(adminGroupID)
    }
}
