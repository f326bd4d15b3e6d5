import Foundation
import Glibc
import Logging
import Testing
@testable import KansoSystemd

/// JournalLogHandler end to end: the entry sd_journal_sendv really sends, received on a real
/// socket at journald's path, /run/systemd/journal/socket. The test runs on a thread of its own
/// that enters a private mount namespace with a tmpfs over /run (mount namespaces belong to a
/// thread once it unshares its file system context), so neither the host's journal nor the
/// rest of the test process sees it. Needs the privilege to create mount namespaces.
@Suite(.enabled(if: PrivateJournal.isAvailable, "skipped: cannot create a private mount namespace (needs root and unshare)"))
struct JournalDeliveryTests {
    @Test func anEntryArrivesWithEveryField() throws {
        let fields = try PrivateJournal.receiveEntryOnOwnThread {
            var handler = JournalLogHandler(label: "io.kanso.test", identifier: "kansod-test")
            handler[metadataKey: "agent"] = "ticket-triage"
            let logger = Logger(label: "io.kanso.test") { _ in handler }
            logger.error("worker failed\nsecond line", metadata: ["worker-pid": "4242", "_hidden": "h"])
        }
        #expect(fields["MESSAGE"] == "worker failed\nsecond line")
        #expect(fields["PRIORITY"] == "3")
        #expect(fields["SYSLOG_IDENTIFIER"] == "kansod-test")
        #expect(fields["LOGGER_LABEL"] == "io.kanso.test")
        #expect(fields["AGENT"] == "ticket-triage")
        #expect(fields["WORKER_PID"] == "4242")
        #expect(fields["HIDDEN"] == "h")
        #expect(fields["CODE_FUNC"] == "anEntryArrivesWithEveryField()")
        #expect(fields["CODE_FILE"]?.hasSuffix("JournalDeliveryTests.swift") == true)
        #expect(fields["CODE_LINE"].flatMap(Int.init) != nil)
    }

    @Test func nativeProtocolParsing() throws {
        var datagram = Array("MESSAGE=plain\nPRIORITY=6\n".utf8)
        datagram += Array("BINARY\n".utf8) + [5, 0, 0, 0, 0, 0, 0, 0] + Array("a\nb=c".utf8) + [10]
        let fields = try PrivateJournal.parseNativeEntry(datagram)
        #expect(fields == ["MESSAGE": "plain", "PRIORITY": "6", "BINARY": "a\nb=c"])
        #expect(throws: PrivateJournal.ProtocolError.self) {
            try PrivateJournal.parseNativeEntry(Array("BINARY\n".utf8) + [9, 0, 0, 0, 0, 0, 0, 0] + Array("ab".utf8))
        }
    }
}

/// A journald stand-in for one thread: a datagram socket at journald's path inside a
/// private mount namespace.
enum PrivateJournal {
    static let isAvailable: Bool = {
        guard geteuid() == 0, let unshare = UnitFiles.executable("unshare"),
              let result = try? UnitFiles.run(unshare, ["--mount", "true"]) else { return false }
        return result.status == 0
    }()

    enum ProtocolError: Error, CustomStringConvertible {
        case truncated(field: String, at: Int)
        case setup(String, Int32)

        var description: String {
            switch self {
            case let .truncated(field, offset): return "journal entry truncated in field \(field) at byte \(offset)"
            case let .setup(call, code): return "\(call) failed: \(String(cString: strerror(code)))"
            }
        }
    }

    /// `receiveEntry` on a new thread, which ends with its namespace.
    static func receiveEntryOnOwnThread(_ body: @escaping @Sendable () -> Void) throws -> [String: String] {
        final class Outcome: @unchecked Sendable {
            var value: Result<[String: String], any Error> = .failure(ProtocolError.setup("thread", ECANCELED))
        }
        let outcome = Outcome()
        let finished = DispatchSemaphore(value: 0)
        let thread = Thread {
            outcome.value = Result { try receiveEntry(body) }
            finished.signal()
        }
        thread.start()
        finished.wait()
        return try outcome.value.get()
    }

    /// Runs `body` after putting a socket at /run/systemd/journal/socket in a mount namespace
    /// private to the calling thread, and returns the fields of the one entry it received.
    /// Call only on a thread that ends afterwards: the namespace cannot be left again.
    static func receiveEntry(_ body: () -> Void) throws -> [String: String] {
        // A new mount namespace for this thread (CLONE_NEWNS implies CLONE_FS), with mounts that
        // do not propagate back to the host, and an empty /run.
        // glibc declares unshare(2) only under _GNU_SOURCE, which Swift's Glibc module lacks.
        typealias Unshare = @convention(c) (Int32) -> Int32
        let cloneNewNamespace: Int32 = 0x0002_0000  // CLONE_NEWNS, linux/sched.h
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "unshare") else {
            throw ProtocolError.setup("dlsym(unshare)", ENOSYS)
        }
        let unshare = unsafeBitCast(symbol, to: Unshare.self)
        guard unshare(cloneNewNamespace) == 0 else { throw ProtocolError.setup("unshare(CLONE_NEWNS)", errno) }
        guard mount(nil, "/", nil, UInt(MS_REC | MS_PRIVATE), nil) == 0 else {
            throw ProtocolError.setup("mount --make-rprivate /", errno)
        }
        guard mount("tmpfs", "/run", "tmpfs", 0, "mode=0755") == 0 else { throw ProtocolError.setup("mount tmpfs /run", errno) }
        guard mkdir("/run/systemd", 0o755) == 0, mkdir("/run/systemd/journal", 0o755) == 0 else {
            throw ProtocolError.setup("mkdir /run/systemd/journal", errno)
        }
        let receiver = try DatagramReceiver(path: "/run/systemd/journal/socket")
        body()
        guard let datagram = receiver.receiveBytes() else {
            throw ProtocolError.setup("receiving the journal entry", ETIMEDOUT)
        }
        return try parseNativeEntry(datagram)
    }

    /// Fields of one entry in journald's native protocol: `NAME=value\n`, or for values holding
    /// a newline `NAME\n`, a 64-bit little-endian length, the bytes, `\n`.
    /// Reference: systemd's "Native Journal Protocol" document.
    static func parseNativeEntry(_ bytes: [UInt8]) throws -> [String: String] {
        var fields: [String: String] = [:]
        var index = 0
        while index < bytes.count {
            guard let end = bytes[index...].firstIndex(where: { $0 == UInt8(ascii: "=") || $0 == UInt8(ascii: "\n") }) else {
                throw ProtocolError.truncated(field: String(decoding: bytes[index...], as: UTF8.self), at: index)
            }
            let name = String(decoding: bytes[index..<end], as: UTF8.self)
            if bytes[end] == UInt8(ascii: "=") {
                let valueEnd = bytes[(end + 1)...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
                fields[name] = String(decoding: bytes[(end + 1)..<valueEnd], as: UTF8.self)
                index = valueEnd + 1
            } else {
                let sizeStart = end + 1
                guard sizeStart + 8 <= bytes.count else { throw ProtocolError.truncated(field: name, at: sizeStart) }
                let size = bytes[sizeStart..<(sizeStart + 8)].reversed().reduce(0) { $0 << 8 | Int($1) }
                let valueStart = sizeStart + 8
                guard size >= 0, valueStart + size < bytes.count, bytes[valueStart + size] == UInt8(ascii: "\n") else {
                    throw ProtocolError.truncated(field: name, at: valueStart)
                }
                fields[name] = String(decoding: bytes[valueStart..<(valueStart + size)], as: UTF8.self)
                index = valueStart + size + 1
            }
        }
        return fields
    }
}
