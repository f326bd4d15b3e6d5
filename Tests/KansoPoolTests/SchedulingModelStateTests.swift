@testable import KansoPool
import Testing

@Suite("Scheduling: model state lifecycle")
struct SchedulingModelStateTests {
    static let failed = ModelState.failed(reason: "worker exited with signal 9", retryAt: nil)
    static let quarantined = ModelState.quarantined(reason: "5 failures in 10m")
    static let every: [ModelState] = [.absent, .warming, .loading, .ready, .busy, .draining, failed, quarantined]

    /// The lifecycle of DESIGN.md as a table of (from, to) names; everything else is forbidden.
    static let allowed: Set<String> = [
        "absent→warming", "warming→loading", "loading→ready", "ready→busy", "busy→ready",
        "ready→draining", "busy→draining", "draining→absent",
        "warming→failed", "loading→failed", "ready→failed", "busy→failed", "draining→failed",
        "failed→warming", "failed→quarantined", "failed→absent",
    ]

    static var pairs: [(ModelState, ModelState)] {
        every.flatMap { from in every.map { (from, $0) } }
    }

    @Test("every automatic transition is allowed exactly when the lifecycle has it", arguments: pairs)
    func automaticTransitions(from: ModelState, to: ModelState) {
        let key = "\(from.name)→\(to.name)"
        #expect(from.canTransition(to: to) == Self.allowed.contains(key), "\(key)")
    }

    @Test("an administrator may additionally take a quarantined model back to absent, nothing else", arguments: pairs)
    func administratorTransitions(from: ModelState, to: ModelState) {
        let key = "\(from.name)→\(to.name)"
        let expected = Self.allowed.contains(key) || key == "quarantined→absent"
        #expect(from.canTransition(to: to, cause: .administrator) == expected, "\(key)")
    }

    @Test("the whole happy path, then a crash, a retry and quarantine")
    func walk() throws {
        var state = ModelState.absent
        for next: ModelState in [.warming, .loading, .ready, .busy, .ready, .busy, .draining, .absent, .warming, .loading, .ready] {
            try state.transition(to: next)
        }
        try state.transition(to: .failed(reason: "crash", retryAt: nil))
        try state.transition(to: .warming)
        try state.transition(to: .failed(reason: "crash again", retryAt: nil))
        try state.transition(to: .quarantined(reason: "too many crashes"))
        #expect(state.name == "quarantined")
        #expect(state.reason == "too many crashes")
        #expect(throws: ModelStateTransitionError.self) { try state.transition(to: .warming) }
        #expect(state.name == "quarantined", "a refused transition leaves the state as it was")
        try state.transition(to: .absent, cause: .administrator)
        #expect(state == .absent)
    }

    @Test("a refused transition names both ends")
    func errorText() {
        var state = ModelState.absent
        do {
            try state.transition(to: .busy)
            Issue.record("absent → busy was allowed")
        } catch {
            #expect(error.description.contains("absent → busy"))
            #expect(error.from == .absent && error.to == .busy)
        }
        var quarantined = Self.quarantined
        #expect(throws: ModelStateTransitionError.self) { try quarantined.transition(to: .absent) }
        do { try quarantined.transition(to: .absent) } catch {
            #expect(error.description.contains("administrator"))
        }
    }

    @Test("wire names, reasons and retry instants")
    func names() {
        #expect(Self.every.map(\.name) == ["absent", "warming", "loading", "ready", "busy", "draining", "failed", "quarantined"])
        let instant = ContinuousClock.now
        let failed = ModelState.failed(reason: "OOM kill", retryAt: instant)
        #expect(failed.retryAt == instant)
        #expect(failed.reason == "OOM kill")
        #expect(failed.description == "failed (OOM kill)")
        #expect(ModelState.ready.reason == nil && ModelState.ready.retryAt == nil)
        #expect(ModelState.busy.description == "busy")
    }

    @Test("which states hold a worker and count against the budget")
    func properties() {
        #expect(Self.every.filter(\.hasWorker).map(\.name) == ["loading", "ready", "busy", "draining"])
        #expect(Self.every.filter(\.occupiesBudget).map(\.name) == ["warming", "loading", "ready", "busy", "draining"])
    }
}
