import Glibc

/// The open-file limit: raised at start from its soft value to the hard one, so that the
/// connection limits, not the descriptor table, decide how many clients the daemon holds
/// (systemd starts services with a soft limit of 1024; units/kansod.service sets LimitNOFILE).
/// select(2) is never used, so descriptors above 1024 are safe.
enum OpenFileLimit {
    /// Descriptors kept aside from connections: workers' sockets, model files while they are
    /// mapped, the journal, the event loops, listen and notify sockets.
    static let reservedDescriptors = 256

    /// Raises the soft limit to the hard limit; returns the soft limit in force afterwards.
    @discardableResult
    static func raise() -> Int {
        var limit = rlimit()
        guard getrlimit(RLIMIT_NOFILE_VALUE, &limit) == 0 else { return 1024 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(RLIMIT_NOFILE_VALUE, &raised) == 0 { limit = raised }
        }
        return Int(clamping: limit.rlim_cur)  // RLIM_INFINITY is the largest rlim_t
    }

    /// The most connections the descriptor table allows beside the reserve.
    static func connectionCeiling(softLimit: Int) -> Int {
        max(16, softLimit - reservedDescriptors)
    }

    private static var RLIMIT_NOFILE_VALUE: __rlimit_resource_t { __rlimit_resource_t(RLIMIT_NOFILE.rawValue) }
}
