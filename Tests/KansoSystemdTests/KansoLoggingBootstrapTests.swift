import Glibc
import Logging
import Testing
@testable import KansoSystemd

extension ProcessStateTests {
    /// The choice `KansoLogging.bootstrap` makes, checked through the factory it installs (the
    /// test process's own swift-log bootstrap is left alone: it can happen once per process and
    /// other test targets share this process).
    @Suite struct KansoLoggingBootstrapTests {
        @Test func stderrConnectedToTheJournalSelectsJournalHandlers() throws {
            var status = stat()
            try #require(fstat(STDERR_FILENO, &status) == 0)
            let journalStream = "\(UInt64(status.st_dev)):\(UInt64(status.st_ino))"
            let factory = withEnvironment(["JOURNAL_STREAM": journalStream]) {
                KansoLogging.handlerFactory(identifier: "kansod-test", level: .debug)
            }
            let handler = factory("io.kanso.bootstrap") as? JournalLogHandler
            #expect(handler?.identifier == "kansod-test")
            #expect(handler?.label == "io.kanso.bootstrap")
            #expect(handler?.logLevel == .debug)
        }

        @Test(arguments: [nil, "0:0", "garbage"] as [String?])
        func otherwiseStderrStreamHandlers(journalStream: String?) {
            let factory = withEnvironment(["JOURNAL_STREAM": journalStream]) {
                KansoLogging.handlerFactory(identifier: "kansod-test", level: .notice)
            }
            let handler = factory("io.kanso.bootstrap")
            #expect(handler is StreamLogHandler)
            #expect(handler.logLevel == .notice)
        }
    }
}
