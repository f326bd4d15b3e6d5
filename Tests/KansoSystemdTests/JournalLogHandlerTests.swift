import Foundation
import Glibc
import Logging
import Testing
@testable import KansoSystemd

@Suite struct JournalFieldNameTests {
    @Test(arguments: [
        ("model", "MODEL"),
        ("request-id", "REQUEST_ID"),
        ("request.id", "REQUEST_ID"),
        ("Agent Name", "AGENT_NAME"),
        ("_private", "PRIVATE"),
        ("__", "FIELD"),
        ("", "FIELD"),
        ("2fa", "FIELD_2FA"),
        ("_9lives", "FIELD_9LIVES"),
        ("modèle", "MOD_LE"),
        ("message", "METADATA_MESSAGE"),
        ("priority", "METADATA_PRIORITY"),
        ("code_line", "METADATA_CODE_LINE"),
        ("ALREADY_OK_1", "ALREADY_OK_1"),
    ])
    func sanitizedNames(key: String, expected: String) {
        let name = JournalFieldName.sanitize(key)
        #expect(name == expected)
        #expect(JournalFieldName.isValid(name))
    }

    @Test func longKeysAreCutTo64Characters() {
        let name = JournalFieldName.sanitize(String(repeating: "ab", count: 50))
        #expect(name.count == 64)
        #expect(name == String(repeating: "AB", count: 32))
    }

    @Test(arguments: ["", "_X", "1X", "lower", "A-B", String(repeating: "A", count: 65)])
    func invalidNamesAreRecognized(name: String) {
        #expect(!JournalFieldName.isValid(name))
    }
}

@Suite struct JournalLogHandlerTests {
    struct ModelMissing: Error, CustomStringConvertible {
        var description: String { "model qwen.gguf missing" }
    }

    @Test func anEntryCarriesMessagePriorityLocationAndMetadata() {
        var handler = JournalLogHandler(label: "io.kanso.pool", identifier: "kansod")
        handler[metadataKey: "agent"] = "ticket-triage"
        handler[metadataKey: "worker-pid"] = "4242"
        let event = LogEvent(
            level: .warning, message: "worker restarted", error: ModelMissing(),
            metadata: ["worker-pid": "4343", "attempt": .stringConvertible(3), "labels": ["bug", "billing"]],
            source: "KansoPool", file: "KansoPool/Scheduler.swift", function: "restart(_:)", line: 88)
        #expect(handler.fields(for: event) == [
            "MESSAGE=worker restarted",
            "PRIORITY=4",
            "SYSLOG_IDENTIFIER=kansod",
            "CODE_FILE=KansoPool/Scheduler.swift",
            "CODE_LINE=88",
            "CODE_FUNC=restart(_:)",
            "LOGGER_LABEL=io.kanso.pool",
            "ERROR=model qwen.gguf missing",
            "AGENT=ticket-triage",
            "ATTEMPT=3",
            #"LABELS=["bug", "billing"]"#,
            "WORKER_PID=4343",
        ])
    }

    @Test func providerMetadataSitsBetweenHandlerAndCallMetadata() {
        let provider = Logger.MetadataProvider { ["request": "r-1", "agent": "from-provider"] }
        var handler = JournalLogHandler(label: "l", identifier: "kansod", metadataProvider: provider)
        handler.metadata = ["agent": "from-handler", "model": "m"]
        let event = LogEvent(level: .info, message: "m", metadata: ["request": "r-2"], source: nil,
                             file: "f", function: "g", line: 1)
        let metadataFields = handler.fields(for: event).filter {
            $0.hasPrefix("AGENT=") || $0.hasPrefix("MODEL=") || $0.hasPrefix("REQUEST=")
        }
        #expect(metadataFields == ["AGENT=from-provider", "MODEL=m", "REQUEST=r-2"])
    }

    @Test func metadataCannotReplaceTheMessage() {
        let handler = JournalLogHandler(label: "l", identifier: "kansod")
        let event = LogEvent(level: .info, message: "real", metadata: ["message": "fake"], source: nil,
                             file: "f", function: "g", line: 1)
        let fields = handler.fields(for: event)
        #expect(fields.filter { $0.hasPrefix("MESSAGE=") } == ["MESSAGE=real"])
        #expect(fields.contains("METADATA_MESSAGE=fake"))
    }

    @Test(arguments: [
        (Logger.Level.trace, 7), (.debug, 7), (.info, 6), (.notice, 5), (.warning, 4), (.error, 3), (.critical, 2),
    ])
    func levelsMapToSyslogPriorities(level: Logger.Level, priority: Int) {
        #expect(JournalLogHandler.syslogPriority(for: level) == priority)
    }

    @Test func handlerStateIsAValue() {
        var first = JournalLogHandler(label: "l", identifier: "kansod")
        first.logLevel = .debug
        first[metadataKey: "a"] = "1"
        var second = first
        second.logLevel = .error
        second[metadataKey: "a"] = "2"
        #expect(first.logLevel == .debug)
        #expect(first[metadataKey: "a"] == "1")
    }
}

@Suite struct KansoLoggingTests {
    /// JOURNAL_STREAM matching is by device and inode of the actual descriptor, checked here
    /// against a real open file.
    @Test func journalStreamMatchesOnlyTheSameDeviceAndInode() throws {
        let path = NSTemporaryDirectory() + "/kanso-journal-stream-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        try #require(descriptor >= 0)
        defer { close(descriptor); unlink(path) }
        var status = stat()
        try #require(fstat(descriptor, &status) == 0)
        let device = UInt64(status.st_dev), inode = UInt64(status.st_ino)

        #expect(KansoLogging.isStandardErrorConnectedToJournal(environment: "\(device):\(inode)", descriptor: descriptor))
        #expect(!KansoLogging.isStandardErrorConnectedToJournal(environment: "\(device):\(inode + 1)", descriptor: descriptor))
        #expect(!KansoLogging.isStandardErrorConnectedToJournal(environment: "\(device + 1):\(inode)", descriptor: descriptor))
        #expect(!KansoLogging.isStandardErrorConnectedToJournal(environment: nil, descriptor: descriptor))
        #expect(!KansoLogging.isStandardErrorConnectedToJournal(environment: "\(device)", descriptor: descriptor))
        #expect(!KansoLogging.isStandardErrorConnectedToJournal(environment: "x:y", descriptor: descriptor))
        #expect(!KansoLogging.isStandardErrorConnectedToJournal(environment: "\(device):\(inode)", descriptor: -1))
    }
}
