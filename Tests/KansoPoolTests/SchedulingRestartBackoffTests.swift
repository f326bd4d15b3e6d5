@testable import KansoPool
import Testing

@Suite("Scheduling: restart back-off")
struct SchedulingRestartBackoffTests {
    let start = ContinuousClock.now

    @Test("defaults: 1s, 2s, 4s, 8s, then quarantine at the fifth failure in ten minutes")
    func defaultSequence() {
        var backoff = RestartBackoff()
        var decisions: [RestartBackoff.Decision] = []
        for minute in 0..<5 {
            decisions.append(backoff.recordFailure(at: start + .seconds(60 * minute)))
        }
        #expect(decisions == [.retryAfter(.seconds(1)), .retryAfter(.seconds(2)), .retryAfter(.seconds(4)),
                              .retryAfter(.seconds(8)), .quarantine])
        #expect(backoff.quarantineReason == "5 worker failures within 10m")
        #expect(backoff.failures.count == 5)
    }

    @Test("the delay is capped")
    func cap() {
        var backoff = RestartBackoff(configuration: .init(maximumDelay: .seconds(5), quarantineThreshold: 100))
        let delays = (0..<6).map { backoff.recordFailure(at: start + .seconds($0)) }
        #expect(delays == [.retryAfter(.seconds(1)), .retryAfter(.seconds(2)), .retryAfter(.seconds(4)),
                           .retryAfter(.seconds(5)), .retryAfter(.seconds(5)), .retryAfter(.seconds(5))])
        #expect(backoff.delay(afterFailures: Int.max) == .seconds(5), "a huge count is cheap and capped")
    }

    @Test("failures older than the window are forgotten: five spread over more than ten minutes never quarantine")
    func slidingWindow() {
        var backoff = RestartBackoff()
        var decisions: [RestartBackoff.Decision] = []
        // One failure every 3 minutes: at most 4 (0, 3, 6, 9 min) are inside any 10-minute window.
        for index in 0..<8 {
            decisions.append(backoff.recordFailure(at: start + .seconds(180 * index)))
        }
        #expect(!decisions.contains(.quarantine))
        #expect(decisions.last == .retryAfter(.seconds(8)), "the fourth failure inside the window waits 8s")
        #expect(backoff.failures.count == 4, "the failures of the last ten minutes are kept, the older forgotten")
    }

    @Test("a success after a stable period starts afresh; a success soon after a failure does not")
    func success() {
        var backoff = RestartBackoff()
        _ = backoff.recordFailure(at: start)
        _ = backoff.recordFailure(at: start + .seconds(2))
        // The worker loads and answers 5 s later, then crashes again: still counting.
        backoff.recordSuccess(at: start + .seconds(7))
        #expect(backoff.recordFailure(at: start + .seconds(8)) == .retryAfter(.seconds(4)))
        // It then serves for more than a minute: the record is cleared.
        backoff.recordSuccess(at: start + .seconds(8 + 61))
        #expect(backoff.failures.isEmpty)
        #expect(backoff.recordFailure(at: start + .seconds(100)) == .retryAfter(.seconds(1)))
    }

    @Test("a worker that crashes on every request right after loading ends in quarantine")
    func crashLoop() {
        var backoff = RestartBackoff()
        var time = start
        var last: RestartBackoff.Decision = .retryAfter(.zero)
        for _ in 0..<5 {
            backoff.recordSuccess(at: time + .milliseconds(50))
            last = backoff.recordFailure(at: time + .milliseconds(100))
            if case .retryAfter(let delay) = last { time = time + .milliseconds(100) + delay }
        }
        #expect(last == .quarantine)
    }

    @Test("reset clears quarantine bookkeeping for an administrator's reload")
    func reset() {
        var backoff = RestartBackoff(configuration: .init(quarantineThreshold: 2))
        _ = backoff.recordFailure(at: start)
        #expect(backoff.recordFailure(at: start + .seconds(1)) == .quarantine)
        backoff.reset()
        #expect(backoff.recordFailure(at: start + .seconds(2)) == .retryAfter(.seconds(1)))
    }

    @Test("configuration: other multipliers and thresholds; nonsense figures are clamped")
    func configuration() {
        var tripling = RestartBackoff(configuration: .init(initialDelay: .milliseconds(500), multiplier: 3, quarantineThreshold: 3))
        #expect(tripling.recordFailure(at: start) == .retryAfter(.milliseconds(500)))
        #expect(tripling.recordFailure(at: start) == .retryAfter(.milliseconds(1500)))
        #expect(tripling.recordFailure(at: start) == .quarantine)

        let clamped = RestartBackoff.Configuration(initialDelay: .seconds(-3), multiplier: .nan, maximumDelay: .seconds(-1),
                                                   quarantineThreshold: 0, window: .seconds(-5), stablePeriod: .seconds(-1))
        #expect(clamped.initialDelay == .zero && clamped.multiplier == 1 && clamped.maximumDelay == .zero)
        #expect(clamped.quarantineThreshold == 1 && clamped.window == .zero && clamped.stablePeriod == .zero)
        var immediate = RestartBackoff(configuration: clamped)
        #expect(immediate.recordFailure(at: start) == .quarantine)
    }
}
