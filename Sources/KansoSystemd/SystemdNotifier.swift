import Glibc

/// Tells the service manager about the daemon's state through the `sd_notify` protocol:
/// newline-separated `KEY=value` assignments in one datagram to the `AF_UNIX` socket named by
/// `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
///
/// Reference: sd_notify(3) and systemd's "notify socket" protocol description. We send the
/// datagram ourselves instead of calling `sd_notify` so the address is read once, at `init`,
/// and a notifier keeps working (and keeps being silent) whatever the environment later holds.
///
/// Without `NOTIFY_SOCKET` (not under systemd, or `Type=` other than notify) every call quietly
/// does nothing, so the daemon calls it unconditionally.
public struct SystemdNotifier: Sendable {
    /// Where the datagrams go, or nil when notification is off.
    let address: NotifySocketAddress?

    /// A notifier for the socket `NOTIFY_SOCKET` names in this process's environment.
    public init() {
        self.init(notifySocket: Self.environmentValue("NOTIFY_SOCKET"))
    }

    /// A notifier for an explicit `NOTIFY_SOCKET` value; nil or an unusable value turns it off.
    public init(notifySocket: String?) {
        self.address = notifySocket.flatMap(NotifySocketAddress.init(parsing:))
    }

    /// Whether messages are sent anywhere at all.
    public var isEnabled: Bool { address != nil }

    /// `READY=1`: start-up finished, the socket is being served.
    @discardableResult
    public func ready(status: String?) -> Bool {
        var fields: [(String, String)] = [("READY", "1")]
        if let status { fields.append(("STATUS", status)) }
        return send(orderedFields: fields)
    }

    /// `STATUS=`: a one-line human-readable state shown by `systemctl status`.
    @discardableResult
    public func status(_ text: String) -> Bool {
        send(orderedFields: [("STATUS", text)])
    }

    /// `RELOADING=1` with the `CLOCK_MONOTONIC` time of the reload start: systemd 253 and later
    /// need the timestamp to pair the reload with its `READY=1`; 252 ignores it.
    @discardableResult
    public func reloading() -> Bool {
        send(orderedFields: [("RELOADING", "1"), ("MONOTONIC_USEC", String(Self.monotonicMicroseconds()))])
    }

    /// `STOPPING=1`: shutdown has begun.
    @discardableResult
    public func stopping(status: String?) -> Bool {
        var fields: [(String, String)] = [("STOPPING", "1")]
        if let status { fields.append(("STATUS", status)) }
        return send(orderedFields: fields)
    }

    /// `WATCHDOG=1`: the keep-alive ping; send it every `WatchdogSchedule.pingInterval`.
    @discardableResult
    public func watchdog() -> Bool {
        send(orderedFields: [("WATCHDOG", "1")])
    }

    /// `EXTEND_TIMEOUT_USEC=`: the current start, stop or reload needs this much more time.
    @discardableResult
    public func extendTimeout(microseconds: UInt64) -> Bool {
        send(orderedFields: [("EXTEND_TIMEOUT_USEC", String(microseconds))])
    }

    /// `STATUS=` and `ERRNO=`: the daemon failed, with the errno-style reason.
    @discardableResult
    public func failed(errno: Int32, status: String) -> Bool {
        send(orderedFields: [("STATUS", status), ("ERRNO", String(errno))])
    }

    /// Any assignment list, sent in key order so the datagram is the same on every run.
    /// Returns whether the datagram was delivered; false when disabled, when a key is not a
    /// valid assignment name (empty, or holding `=` or a newline), or when sending failed.
    @discardableResult
    public func send(_ fields: [String: String]) -> Bool {
        send(orderedFields: fields.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
    }

    /// The datagram for an assignment list, or nil when a key is unusable. Values are made single
    /// line (a newline would start a new assignment in the protocol).
    static func datagram(for fields: [(String, String)]) -> String? {
        var lines: [String] = []
        lines.reserveCapacity(fields.count)
        for (key, value) in fields {
            guard !key.isEmpty, !key.contains("="), !key.contains(where: \.isNewline) else { return nil }
            let singleLine = String(value.map { $0.isNewline ? " " : $0 })
            lines.append("\(key)=\(singleLine)")
        }
        return lines.joined(separator: "\n")
    }

    private func send(orderedFields fields: [(String, String)]) -> Bool {
        guard let address, let message = Self.datagram(for: fields) else { return false }
        return address.sendDatagram(Array(message.utf8))
    }

    private static func monotonicMicroseconds() -> UInt64 {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
    }

    public static func environmentValue(_ name: String) -> String? {
        guard let value = getenv(name) else { return nil }
        return String(cString: value)
    }
}
