@testable import KansoPool
import Testing

@Suite("Scheduling: keep-alive")
struct SchedulingKeepAlivePolicyTests {
    let finished = ContinuousClock.now

    @Test("one agent: its duration, 0 at once, forever never")
    func single() {
        let policy = KeepAlivePolicy()
        #expect(policy.expiry(lastFinished: finished, keepAlives: [.seconds(300)]) == finished + .seconds(300))
        #expect(policy.expiry(lastFinished: finished, keepAlives: [.unloadAfterRequest]) == finished)
        #expect(policy.expiry(lastFinished: finished, keepAlives: [.forever]) == nil)
    }

    @Test("the manifest's own forms go through", arguments: [("5m", 300.0), ("90s", 90.0), ("1h30m", 5400.0), ("0", 0.0)])
    func parsed(text: String, seconds: Double) throws {
        let keepAlive = try #require(KeepAlive(parsing: text))
        #expect(KeepAlivePolicy().idleDuration(for: [keepAlive]) == .seconds(seconds))
    }

    @Test("expiry is exactly the keep-alive after the last request")
    func boundary() {
        #expect(KeepAlivePolicy().expiry(lastFinished: finished, keepAlives: [.seconds(60)]) == finished + .seconds(60))
    }

    @Test("several agents on one model: the longest wins, forever beats everything")
    func combined() {
        #expect(KeepAlivePolicy.combined([.seconds(30), .seconds(600), .unloadAfterRequest]) == .seconds(600))
        #expect(KeepAlivePolicy.combined([.unloadAfterRequest, .unloadAfterRequest]) == .unloadAfterRequest)
        #expect(KeepAlivePolicy.combined([.seconds(30), .forever, .seconds(600)]) == .forever)
        #expect(KeepAlivePolicy.combined([]) == .unloadAfterRequest, "a model no agent uses any more is kept for nothing")
        #expect(KeepAlivePolicy.isPinned([.seconds(30), .forever]))
        #expect(!KeepAlivePolicy.isPinned([.seconds(30), .unloadAfterRequest]))
        let policy = KeepAlivePolicy()
        #expect(policy.expiry(lastFinished: finished, keepAlives: [.unloadAfterRequest, .seconds(120)]) == finished + .seconds(120))
    }

    @Test("the power profile scales durations, never forever")
    func scaling() {
        let battery = KeepAlivePolicy(scale: 0.25)
        #expect(battery.idleDuration(for: [KeepAlive.standard]) == .seconds(75))
        #expect(battery.expiry(lastFinished: finished, keepAlives: [.seconds(300), .seconds(40)]) == finished + .seconds(75))
        #expect(battery.idleDuration(for: [.forever]) == nil)
        #expect(battery.idleDuration(for: [.unloadAfterRequest]) == .zero)
        let generous = KeepAlivePolicy(scale: 2)
        #expect(generous.idleDuration(for: [.seconds(300)]) == .seconds(600))
        let immediate = KeepAlivePolicy(scale: 0)
        #expect(immediate.idleDuration(for: [.seconds(300)]) == .zero)
        #expect(immediate.idleDuration(for: [.seconds(300), .forever]) == nil)
    }

    @Test("nonsense scales and huge durations do not trap")
    func nonsense() {
        #expect(KeepAlivePolicy(scale: -1).scale == 0)
        #expect(KeepAlivePolicy(scale: .nan).scale == 1)
        #expect(KeepAlivePolicy(scale: .infinity).scale == 1)
        let huge = KeepAlivePolicy().idleDuration(for: [.seconds(1e300)])
        #expect(huge == .seconds(9e9))
    }
}
