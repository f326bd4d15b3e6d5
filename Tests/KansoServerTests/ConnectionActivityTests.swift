@testable import KansoServer
import Testing

/// The timeouts as a pure policy: which silences close a connection, and which do not.
@Suite("Connection timeouts")
struct ConnectionActivityTests {
    let timeouts = ConnectionActivity.Timeouts(idle: .seconds(60), message: .seconds(10), write: .seconds(30))
    let start = ContinuousClock.now

    @Test("idle: closed after the idle timeout, not while a call runs")
    func idle() {
        var activity = ConnectionActivity(now: start)
        #expect(activity.expiry(at: start + .seconds(59), timeouts: timeouts) == nil)
        #expect(activity.expiry(at: start + .seconds(60), timeouts: timeouts) == .idle)
        activity.received(completed: 1, pendingBytes: 0, now: start + .seconds(1))
        #expect(activity.expiry(at: start + .seconds(600), timeouts: timeouts) == nil, "a long call is not idleness")
        activity.answered(now: start + .seconds(600))
        #expect(activity.expiry(at: start + .seconds(659), timeouts: timeouts) == nil)
        #expect(activity.expiry(at: start + .seconds(660), timeouts: timeouts) == .idle)
    }

    @Test("half a message: counted from its first byte, however slowly the rest trickles in")
    func partialMessage() {
        var activity = ConnectionActivity(now: start)
        activity.received(completed: 0, pendingBytes: 5, now: start)
        for second in 1..<10 {
            activity.received(completed: 0, pendingBytes: 5 + second, now: start + .seconds(second))
        }
        #expect(activity.expiry(at: start + .seconds(9), timeouts: timeouts) == nil)
        #expect(activity.expiry(at: start + .seconds(10), timeouts: timeouts) == .partialMessage)
        // Finishing it in time clears it; the next message has its own time.
        activity.received(completed: 1, pendingBytes: 3, now: start + .seconds(9))
        activity.answered(now: start + .seconds(9))
        #expect(activity.expiry(at: start + .seconds(18), timeouts: timeouts) == nil)
        #expect(activity.expiry(at: start + .seconds(19), timeouts: timeouts) == .partialMessage)
    }

    @Test("half a message sent behind a running call has its full time once the call ends")
    func partialBehindCall() {
        var activity = ConnectionActivity(now: start)
        activity.received(completed: 1, pendingBytes: 4, now: start)
        #expect(activity.expiry(at: start + .seconds(100), timeouts: timeouts) == nil)
        activity.answered(now: start + .seconds(100))
        #expect(activity.expiry(at: start + .seconds(109), timeouts: timeouts) == nil)
        #expect(activity.expiry(at: start + .seconds(110), timeouts: timeouts) == .partialMessage)
    }

    @Test("a reply the client does not take: closed after the write timeout, even mid-call")
    func writeStalled() {
        var activity = ConnectionActivity(now: start)
        activity.received(completed: 1, pendingBytes: 0, now: start)
        activity.writeStarted(now: start + .seconds(1))
        #expect(activity.expiry(at: start + .seconds(30), timeouts: timeouts) == nil)
        #expect(activity.expiry(at: start + .seconds(31), timeouts: timeouts) == .writeStalled)
        activity.writeFinished(now: start + .seconds(20))
        #expect(activity.expiry(at: start + .seconds(31), timeouts: timeouts) == nil)
    }
}
