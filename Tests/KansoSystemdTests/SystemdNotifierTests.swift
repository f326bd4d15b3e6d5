import CSystemd
import Glibc
import Testing
@testable import KansoSystemd

extension ProcessStateTests {
    /// The notifier against a real datagram socket named by `NOTIFY_SOCKET`.
    @Suite struct SystemdNotifierTests {
        /// A receiver and a notifier built from the environment while NOTIFY_SOCKET names it.
        private func makePair(abstract: Bool = false) throws -> (DatagramReceiver, SystemdNotifier) {
            let receiver = try DatagramReceiver(abstract: abstract)
            let notifier = withEnvironment(["NOTIFY_SOCKET": receiver.notifySocket]) { SystemdNotifier() }
            return (receiver, notifier)
        }

        @Test func readySendsReadyAndStatus() throws {
            let (receiver, notifier) = try makePair()
            #expect(notifier.isEnabled)
            #expect(notifier.ready(status: "serving 3 agents"))
            #expect(receiver.receive() == "READY=1\nSTATUS=serving 3 agents")
            #expect(notifier.ready(status: nil))
            #expect(receiver.receive() == "READY=1")
        }

        @Test func eachMessageIsTheExactDatagram() throws {
            let (receiver, notifier) = try makePair()
            notifier.status("loading qwen2.5-0.5b")
            #expect(receiver.receive() == "STATUS=loading qwen2.5-0.5b")
            notifier.stopping(status: "draining 2 requests")
            #expect(receiver.receive() == "STOPPING=1\nSTATUS=draining 2 requests")
            notifier.stopping(status: nil)
            #expect(receiver.receive() == "STOPPING=1")
            notifier.watchdog()
            #expect(receiver.receive() == "WATCHDOG=1")
            notifier.extendTimeout(microseconds: 45_000_000)
            #expect(receiver.receive() == "EXTEND_TIMEOUT_USEC=45000000")
            notifier.failed(errno: ENOENT, status: "agents directory missing")
            #expect(receiver.receive() == "STATUS=agents directory missing\nERRNO=2")
            notifier.send(["MAINPID": "1234", "BUSERROR": "x.y", "STATUS": "custom"])
            #expect(receiver.receive() == "BUSERROR=x.y\nMAINPID=1234\nSTATUS=custom")
        }

        @Test func reloadingCarriesTheMonotonicClock() throws {
            let (receiver, notifier) = try makePair()
            let before = Self.monotonicMicroseconds()
            #expect(notifier.reloading())
            let after = Self.monotonicMicroseconds()
            let message = try #require(receiver.receive())
            let lines = message.split(separator: "\n").map(String.init)
            #expect(lines.count == 2)
            #expect(lines.first == "RELOADING=1")
            let stamp = try #require(lines.last.flatMap { $0.hasPrefix("MONOTONIC_USEC=") ? UInt64($0.dropFirst(15)) : nil })
            #expect(stamp >= before && stamp <= after)
        }

        @Test func newlinesInValuesDoNotStartNewAssignments() throws {
            let (receiver, notifier) = try makePair()
            notifier.status("line one\nREADY=1")
            #expect(receiver.receive() == "STATUS=line one READY=1")
        }

        @Test(arguments: ["", "A=B", "TWO\nLINES"])
        func unusableKeysAreRefused(key: String) throws {
            let (receiver, notifier) = try makePair()
            #expect(notifier.send([key: "1"]) == false)
            #expect(receiver.receive(timeoutMilliseconds: 100) == nil)
        }

        @Test func abstractNamespaceAddressesWork() throws {
            let (receiver, notifier) = try makePair(abstract: true)
            #expect(receiver.notifySocket.hasPrefix("@"))
            #expect(notifier.isEnabled)
            #expect(notifier.ready(status: "abstract"))
            #expect(receiver.receive() == "READY=1\nSTATUS=abstract")
        }

        /// libsystemd's own sd_notify as the reference: for the same state, on path and abstract
        /// addresses, the receiver gets the same bytes from both.
        @Test(arguments: [false, true])
        func datagramsMatchLibsystemd(abstract: Bool) throws {
            let receiver = try DatagramReceiver(abstract: abstract)
            let notifier = SystemdNotifier(notifySocket: receiver.notifySocket)
            let state = "READY=1\nSTATUS=serving 3 agents"
            let referenceResult = withEnvironment(["NOTIFY_SOCKET": receiver.notifySocket]) { sd_notify(0, state) }
            #expect(referenceResult > 0, "sd_notify returned \(referenceResult)")
            let reference = receiver.receive()
            #expect(notifier.ready(status: "serving 3 agents"))
            #expect(receiver.receive() == reference)
            #expect(reference == state)
        }

        @Test func withoutNotifySocketEverythingIsANoOp() {
            let notifier = withEnvironment(["NOTIFY_SOCKET": nil]) { SystemdNotifier() }
            #expect(!notifier.isEnabled)
            #expect(!notifier.ready(status: "x"))
            #expect(!notifier.status("x"))
            #expect(!notifier.reloading())
            #expect(!notifier.stopping(status: nil))
            #expect(!notifier.watchdog())
            #expect(!notifier.extendTimeout(microseconds: 1))
            #expect(!notifier.failed(errno: EIO, status: "x"))
            #expect(!notifier.send(["A": "1"]))
        }

        @Test(arguments: ["", "@", "relative/notify", "vsock:2:1234", "/" + String(repeating: "x", count: 200)])
        func unusableAddressesDisableTheNotifier(value: String) {
            let notifier = withEnvironment(["NOTIFY_SOCKET": value]) { SystemdNotifier() }
            #expect(!notifier.isEnabled)
        }

        @Test func theAddressIsReadOnceAtInit() throws {
            let before = environmentValue("NOTIFY_SOCKET")
            let (receiver, notifier) = try makePair()
            // The environment is back to what it was and no longer names the socket; the
            // notifier still does.
            #expect(environmentValue("NOTIFY_SOCKET") == before)
            #expect(before != receiver.notifySocket)
            #expect(notifier.watchdog())
            #expect(receiver.receive() == "WATCHDOG=1")
        }

        @Test func aMissingReceiverIsAFailedSendNotACrash() {
            let notifier = SystemdNotifier(notifySocket: "/nonexistent-kanso-dir/notify")
            #expect(notifier.isEnabled)
            #expect(!notifier.ready(status: nil))
        }

        private static func monotonicMicroseconds() -> UInt64 {
            var now = timespec()
            clock_gettime(CLOCK_MONOTONIC, &now)
            return UInt64(now.tv_sec) * 1_000_000 + UInt64(now.tv_nsec) / 1_000
        }
    }
}
