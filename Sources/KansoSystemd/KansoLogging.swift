import Glibc
import Logging
import Synchronization

/// Chooses where the daemon's logs go, once, at start-up (DESIGN.md, "Where it runs"): to
/// journald with structured fields when systemd connected our stderr to the journal, to stderr
/// as plain lines otherwise (a terminal, a test, a container without journald).
public enum KansoLogging {
    private static let bootstrapped = Mutex(false)

    /// Bootstraps swift-log. Only the first call has an effect: swift-log itself may be
    /// bootstrapped once per process, and a second call is ignored instead of crashing.
    public static func bootstrap(identifier: String, level: Logger.Level) {
        let isFirst = bootstrapped.withLock { done in
            defer { done = true }
            return !done
        }
        guard isFirst else { return }
        LoggingSystem.bootstrap(handlerFactory(identifier: identifier, level: level))
    }

    /// What `bootstrap` installs: journal handlers when `toJournal` (by default, when stderr is
    /// the journal stream), stderr stream handlers otherwise, each at `level`.
    public static func handlerFactory(
        identifier: String, level: Logger.Level, toJournal: Bool = isStandardErrorConnectedToJournal()
    ) -> @Sendable (String) -> any LogHandler {
        if toJournal {
            return { label in
                var handler = JournalLogHandler(label: label, identifier: identifier)
                handler.logLevel = level
                return handler
            }
        }
        return { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }

    /// Whether file descriptor 2 is the stream systemd set up for this service.
    ///
    /// Reference: systemd.exec(5), `$JOURNAL_STREAM`: "device:inode" of the stream, to be
    /// compared with fstat(2) of stderr, so a redirected stderr (`kansod 2>file` inside a
    /// service) is not mistaken for the journal.
    public static func isStandardErrorConnectedToJournal(
        environment journalStream: String? = SystemdNotifier.environmentValue("JOURNAL_STREAM"),
        descriptor: Int32 = STDERR_FILENO
    ) -> Bool {
        guard let journalStream, let expected = parseDeviceAndInode(journalStream) else { return false }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { return false }
        return UInt64(status.st_dev) == expected.device && UInt64(status.st_ino) == expected.inode
    }

    /// "device:inode" in decimal, as systemd writes it; nil when malformed.
    static func parseDeviceAndInode(_ text: String) -> (device: UInt64, inode: UInt64)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }
}
