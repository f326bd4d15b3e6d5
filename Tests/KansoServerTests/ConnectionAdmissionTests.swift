@testable import KansoServer
import Testing

/// The connection limits: per user, in all, and the places kept for administrators.
@Suite("Connection limits")
struct ConnectionAdmissionTests {
    @Test("a user over its limit is refused; other users and administrators are not")
    func perUser() {
        let admission = ConnectionAdmission(limits: .init(total: 100, perUser: 2, adminReserve: 10))
        #expect(admission.admit(uid: 1000, isAdmin: false) == nil)
        #expect(admission.admit(uid: 1000, isAdmin: false) == nil)
        #expect(admission.admit(uid: 1000, isAdmin: false) == .init(scope: "user", limit: 2))
        #expect(admission.admit(uid: 1001, isAdmin: false) == nil)
        #expect(admission.admit(uid: 0, isAdmin: true) == nil)
        #expect(admission.admit(uid: 0, isAdmin: true) == nil)
        #expect(admission.admit(uid: 0, isAdmin: true) == nil, "administrators have no per-user limit")
        admission.release(uid: 1000)
        #expect(admission.admit(uid: 1000, isAdmin: false) == nil, "a closed connection gives its place back")
        #expect(admission.takeRefusedCount() == 1)
        #expect(admission.takeRefusedCount() == 0)
    }

    @Test("ordinary users stop short of the administrators' reserve; administrators stop at the total")
    func reserve() {
        let admission = ConnectionAdmission(limits: .init(total: 10, perUser: 100, adminReserve: 3))
        for uid in 0..<7 { #expect(admission.admit(uid: UInt32(1000 + uid), isAdmin: false) == nil) }
        #expect(admission.admit(uid: 2000, isAdmin: false) == .init(scope: "total", limit: 7))
        for _ in 0..<3 { #expect(admission.admit(uid: 0, isAdmin: true) == nil) }
        #expect(admission.admit(uid: 0, isAdmin: true) == .init(scope: "total", limit: 10))
        #expect(admission.openConnections.total == 10)
    }

    @Test("refusals waiting to be read are bounded")
    func pendingRefusals() {
        var limits = ConnectionAdmission.Limits(total: 1, perUser: 1, adminReserve: 0)
        limits.refusalsPending = 2
        let admission = ConnectionAdmission(limits: limits)
        #expect(admission.beginRefusal())
        #expect(admission.beginRefusal())
        #expect(!admission.beginRefusal())
        admission.refusalEnded()
        #expect(admission.beginRefusal())
    }
}

/// When the heap of closed connections is handed back: after a flood has mostly gone, not at
/// every small dip.
@Suite("Heap release")
struct HeapReleaseTests {
    @Test("released once 128 connections and half the peak have closed")
    func afterAFlood() {
        var heap = HeapRelease()
        let decisions = [100, 10, 1000, 600, 3, 1].map { heap.shouldRelease(openConnections: $0) }
        // 10: only 90 closed; 600: more than half remain; 1: the peak starts again from the release.
        #expect(decisions == [false, false, false, false, true, false])
    }
}
