import Foundation
@testable import KansoPool
import KansoTestSupport
import Testing

@Suite("Scheduling: admission and eviction")
struct SchedulingAdmissionPlannerTests {
    static let mebibyte = 1_048_576
    let now = ContinuousClock.now

    /// An idle, loaded, unpinned model.
    func model(_ id: String, mebibytes: Int, idleSeconds: Double = 10, reloadSeconds: Double = 0.5, perHour: Double = 0,
               state: ModelState = .ready, pinned: Bool = false, inFlight: Int = 0) -> AdmissionPlanner.ResidentModel {
        AdmissionPlanner.ResidentModel(id: id, bytes: mebibytes * Self.mebibyte, state: state, pinned: pinned, inFlight: inFlight,
                                       lastUsed: now - .seconds(idleSeconds), expectedReloadDuration: .seconds(reloadSeconds),
                                       requestsPerHour: perHour)
    }

    func candidate(_ mebibytes: Int, id: String = "/models/new.gguf") -> AdmissionPlanner.Candidate {
        .init(id: id, estimatedBytes: mebibytes * Self.mebibyte)
    }

    func planner(budgetMebibytes: Int) -> AdmissionPlanner { AdmissionPlanner(budgetBytes: budgetMebibytes * Self.mebibyte) }

    @Test("fits in free room; a model already resident needs nothing; failed and quarantined models hold nothing")
    func fits() {
        let planner = planner(budgetMebibytes: 1000)
        #expect(planner.plan(candidate: candidate(1000), residents: [], now: now) == .fits)
        let residents = [model("a", mebibytes: 600), model("b", mebibytes: 300, state: .failed(reason: "crash", retryAt: nil)),
                         model("c", mebibytes: 300, state: .quarantined(reason: "crashes")), model("d", mebibytes: 300, state: .absent)]
        #expect(planner.plan(candidate: candidate(400), residents: residents, now: now) == .fits)
        #expect(planner.plan(candidate: candidate(401), residents: residents, now: now) == .evict(["a"]))
        #expect(planner.plan(candidate: candidate(900, id: "a"), residents: residents, now: now) == .fits)
    }

    @Test("warming and loading models hold their bytes")
    func reservations() {
        let planner = planner(budgetMebibytes: 1000)
        let residents = [model("a", mebibytes: 500, state: .warming), model("b", mebibytes: 400, state: .loading)]
        #expect(planner.plan(candidate: candidate(100), residents: residents, now: now) == .fits)
        #expect(planner.plan(candidate: candidate(101), residents: residents, now: now) == .wait)
    }

    @Test("a model larger than the whole budget is refused at once, with the figures")
    func largerThanBudget() throws {
        let planner = planner(budgetMebibytes: 512)
        let decision = planner.plan(candidate: candidate(1536, id: "/models/qwen-1.5b.gguf"), residents: [], now: now)
        guard case .refuse(let refusal) = decision else { Issue.record("expected a refusal, got \(decision)"); return }
        #expect(refusal.kind == .largerThanBudget)
        #expect(refusal.candidateBytes == 1536 * Self.mebibyte && refusal.budgetBytes == 512 * Self.mebibyte)
        #expect(refusal.description == "model qwen-1.5b.gguf needs 1.50 GiB (1610612736 bytes) but the whole memory budget is 512.00 MiB (536870912 bytes)")
    }

    @Test("the cost rule, not recency: the recently used but rarely needed, quick-to-reload model goes first")
    func costBeatsRecency() {
        let planner = planner(budgetMebibytes: 1000)
        // LRU would evict "popular" (idle 5 minutes) rather than "rare" (idle 5 seconds).
        let rare = model("rare", mebibytes: 500, idleSeconds: 5, reloadSeconds: 0.05, perHour: 1)
        let popular = model("popular", mebibytes: 500, idleSeconds: 300, reloadSeconds: 2, perHour: 120)
        let leastRecentlyUsed = [popular, rare].min { $0.lastUsed < $1.lastUsed }?.id
        #expect(leastRecentlyUsed == "popular", "the case is built so that LRU disagrees")
        #expect(planner.plan(candidate: candidate(400), residents: [popular, rare], now: now) == .evict(["rare"]))
        let ranking = planner.ranking(residents: [popular, rare], now: now)
        #expect(ranking.map(\.id) == ["rare", "popular"])
        #expect(ranking[0].cost < ranking[1].cost)
    }

    @Test("the silence counts: a model that used to be busy but has not been asked for in an hour is cheap")
    func silenceDiscountsRate() {
        let planner = planner(budgetMebibytes: 1000)
        // "stale" had 120 requests/hour but none for an hour; "steady" has 20/hour and was used a minute ago.
        let stale = model("stale", mebibytes: 500, idleSeconds: 3600, reloadSeconds: 1, perHour: 120)
        let steady = model("steady", mebibytes: 500, idleSeconds: 60, reloadSeconds: 1, perHour: 20)
        #expect(planner.plan(candidate: candidate(400), residents: [steady, stale], now: now) == .evict(["stale"]))
        // With the same silence the higher rate is the costlier one.
        let recentBusy = model("recent-busy", mebibytes: 500, idleSeconds: 60, reloadSeconds: 1, perHour: 120)
        #expect(planner.plan(candidate: candidate(400), residents: [steady, recentBusy], now: now) == .evict(["steady"]))
    }

    @Test("bytes freed count: with the same expected reload time, one large eviction beats two small ones")
    func bytesFreed() {
        let planner = planner(budgetMebibytes: 1000)
        // Same rate and reload; the small ones are a little older (LRU would take both of them).
        let small1 = model("small-1", mebibytes: 200, idleSeconds: 32, reloadSeconds: 1, perHour: 30)
        let small2 = model("small-2", mebibytes: 200, idleSeconds: 31, reloadSeconds: 1, perHour: 30)
        let large = model("large", mebibytes: 600, idleSeconds: 30, reloadSeconds: 1, perHour: 30)
        #expect(planner.plan(candidate: candidate(350), residents: [small1, small2, large], now: now) == .evict(["large"]))
    }

    @Test("equal costs: the larger goes first, so fewer models are evicted")
    func tiesPreferFewer() {
        let planner = planner(budgetMebibytes: 1000)
        // No recent requests: every cost is 0.
        let residents = [model("a", mebibytes: 200), model("b", mebibytes: 200), model("c", mebibytes: 250), model("d", mebibytes: 350)]
        #expect(planner.plan(candidate: candidate(200), residents: residents, now: now) == .evict(["d"]))
        #expect(planner.plan(candidate: candidate(500), residents: residents, now: now) == .evict(["d", "c"]))
    }

    @Test("a chosen model that turns out unnecessary is kept")
    func pruning() {
        let planner = planner(budgetMebibytes: 1000)
        // "tiny" is cheapest per byte but too small; "big" alone frees enough, so tiny stays.
        let tiny = model("tiny", mebibytes: 100, idleSeconds: 1, reloadSeconds: 0.01, perHour: 60)
        let big = model("big", mebibytes: 900, idleSeconds: 1, reloadSeconds: 1, perHour: 60)
        let ranking = planner.ranking(residents: [tiny, big], now: now)
        #expect(ranking.map(\.id) == ["tiny", "big"])
        #expect(planner.plan(candidate: candidate(300), residents: [tiny, big], now: now) == .evict(["big"]))
    }

    @Test("never evicts busy, in-flight or pinned models; evicts only idle ones, cheapest first")
    func protectedModels() {
        let planner = planner(budgetMebibytes: 1000)
        // The protected ones would be the cheapest by the cost rule (no requests: cost 0).
        let residents = [
            model("busy", mebibytes: 200, state: .busy, inFlight: 1),
            model("in-flight", mebibytes: 200, inFlight: 2),
            model("pinned", mebibytes: 200, pinned: true),
            model("idle-cheap", mebibytes: 150, reloadSeconds: 0.1, perHour: 1),
            model("idle-dear", mebibytes: 150, idleSeconds: 1, reloadSeconds: 3, perHour: 600),
        ]
        // 900 of 1000 held: 100 free.
        #expect(planner.plan(candidate: candidate(100), residents: residents, now: now) == .fits)
        #expect(planner.plan(candidate: candidate(150), residents: residents, now: now) == .evict(["idle-cheap"]))
        #expect(planner.plan(candidate: candidate(400), residents: residents, now: now) == .evict(["idle-cheap", "idle-dear"]))
        // 300 more than the idle ones hold: only the busy and in-flight ones could give it.
        #expect(planner.plan(candidate: candidate(500), residents: residents, now: now) == .wait)
        #expect(planner.ranking(residents: residents, now: now).map(\.id) == ["idle-cheap", "idle-dear"])
    }

    @Test("waits when only busy, loading or draining models could make room", arguments: [
        ModelState.busy, .loading, .warming, .draining,
    ])
    func waits(state: ModelState) {
        let planner = planner(budgetMebibytes: 1000)
        let residents = [model("other", mebibytes: 500, state: state, inFlight: state == .busy ? 1 : 0),
                         model("idle", mebibytes: 300), model("pinned", mebibytes: 200, pinned: true)]
        // 300 idle is not enough for 600; the 500 of the other model will come back.
        #expect(planner.plan(candidate: candidate(600), residents: residents, now: now) == .wait)
        #expect(planner.plan(candidate: candidate(300), residents: residents, now: now) == .evict(["idle"]))
    }

    @Test("refuses when pinned models leave too little room even after waiting, with the figures")
    func cannotMakeRoom() {
        let planner = planner(budgetMebibytes: 1000)
        let residents = [model("pinned", mebibytes: 600, pinned: true), model("busy-pinned", mebibytes: 100, state: .busy, pinned: true, inFlight: 1),
                         model("idle", mebibytes: 200), model("busy", mebibytes: 50, state: .busy, inFlight: 1)]
        let decision = planner.plan(candidate: candidate(400, id: "/models/x.gguf"), residents: residents, now: now)
        guard case .refuse(let refusal) = decision else { Issue.record("expected a refusal, got \(decision)"); return }
        #expect(refusal.kind == .cannotMakeRoom)
        #expect(refusal.pinnedBytes == 700 * Self.mebibyte)
        #expect(refusal.obtainableBytes == (50 + 200 + 50) * Self.mebibyte)
        #expect(refusal.description.contains("needs 400.00 MiB"))
        #expect(refusal.description.contains("pinned models hold 700.00 MiB"))
        #expect(refusal.description.contains("at most 300.00 MiB"))
        // A pinned model being drained (an administrator unloads it) does give its room back.
        var draining = residents
        draining[0].state = .draining
        #expect(planner.plan(candidate: candidate(400), residents: draining, now: now) == .wait)
    }

    @Test("an over-committed pool (measured above the budget) evicts the excess too")
    func overCommitted() {
        let planner = planner(budgetMebibytes: 1000)
        let residents = [model("a", mebibytes: 700), model("b", mebibytes: 500, idleSeconds: 1, reloadSeconds: 2, perHour: 600)]
        // Free is −200: 300 more are needed for 100.
        #expect(planner.plan(candidate: candidate(100), residents: residents, now: now) == .evict(["a"]))
        #expect(planner.plan(candidate: candidate(300), residents: residents, now: now) == .evict(["a"]))
        #expect(planner.plan(candidate: candidate(600), residents: residents, now: now) == .evict(["a", "b"]))
    }

    @Test("reuse probability follows 1 − exp(−λ'·H) with λ' = λ / (1 + λ·t)")
    func probability() {
        let planner = planner(budgetMebibytes: 1000)
        let fresh = model("m", mebibytes: 1, idleSeconds: 0, perHour: 60)
        #expect(abs(planner.reuseProbability(of: fresh, now: now) - (1 - exp(-1.0))) < 1e-9)
        let idle = model("m", mebibytes: 1, idleSeconds: 60, perHour: 60)
        #expect(abs(planner.reuseProbability(of: idle, now: now) - (1 - exp(-0.5))) < 1e-9)
        let never = model("m", mebibytes: 1, perHour: 0)
        #expect(planner.reuseProbability(of: never, now: now) == 0)
        let nonsense = model("m", mebibytes: 1, perHour: .nan)
        #expect(planner.reuseProbability(of: nonsense, now: now) == 0)
        let score = planner.score(of: model("m", mebibytes: 1, idleSeconds: 0, reloadSeconds: 2, perHour: 60), now: now)
        #expect(abs(score.expectedReloadSeconds - 2 * (1 - exp(-1.0))) < 1e-9)
        #expect(abs(score.cost - score.expectedReloadSeconds / Double(Self.mebibyte)) < 1e-18)
        let longer = AdmissionPlanner(budgetBytes: 1, configuration: .init(reuseHorizon: .seconds(120)))
        #expect(abs(longer.reuseProbability(of: fresh, now: now) - (1 - exp(-2.0))) < 1e-9)
    }

    @Test("absurd figures do not trap")
    func absurdFigures() {
        let planner = AdmissionPlanner(budgetBytes: Int.max)
        let residents = [model("a", mebibytes: 1), AdmissionPlanner.ResidentModel(id: "huge", bytes: Int.max, state: .ready, lastUsed: now,
                                                                                  expectedReloadDuration: .seconds(1), requestsPerHour: 1)]
        #expect(planner.plan(candidate: .init(id: "x", estimatedBytes: Int.max), residents: residents, now: now) != .fits)
        #expect(planner.plan(candidate: .init(id: "x", estimatedBytes: -5), residents: [], now: now) == .fits)
        let none = AdmissionPlanner(budgetBytes: 0)
        guard case .refuse = none.plan(candidate: candidate(1), residents: [], now: now) else { Issue.record("a zero budget admitted"); return }
    }

    @Test("random pools: every decision keeps the rules", arguments: [11, 12, 13])
    func invariants(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        let states: [ModelState] = [.ready, .ready, .ready, .busy, .loading, .warming, .draining, .failed(reason: "x", retryAt: nil)]
        var seen = Set<String>()
        for _ in 0..<400 {
            let budget = Int.random(in: 100...2000, using: &generator)
            let planner = planner(budgetMebibytes: budget)
            let residents = (0..<Int.random(in: 0...7, using: &generator)).map { index in
                let state = states.randomElement(using: &generator)!
                return model("m\(index)", mebibytes: Int.random(in: 1...600, using: &generator),
                             idleSeconds: Double.random(in: 0...7200, using: &generator),
                             reloadSeconds: Double.random(in: 0...3, using: &generator),
                             perHour: [0, 1, 10, 100, 1000].randomElement(using: &generator)!, state: state,
                             pinned: Int.random(in: 0..<5, using: &generator) == 0,
                             inFlight: state == .busy ? 1 : Int.random(in: 0..<6, using: &generator) == 0 ? 1 : 0)
            }
            let wanted = Int.random(in: 1...2200, using: &generator)
            let decision = planner.plan(candidate: candidate(wanted), residents: residents, now: now)
            let needed = wanted * Self.mebibyte
            let held = residents.filter(\.state.occupiesBudget).reduce(0) { $0 + $1.bytes }
            let free = planner.budgetBytes - held
            let evictable = residents.filter(\.isEvictable)
            let evictableBytes = evictable.reduce(0) { $0 + $1.bytes }
            let laterBytes = residents.filter(\.isReclaimableLater).reduce(0) { $0 + $1.bytes }
            switch decision {
            case .fits:
                seen.insert("fits")
                #expect(needed <= free)
            case .evict(let ids):
                seen.insert(ids.count > 1 ? "evict several" : "evict one")
                #expect(!ids.isEmpty && needed > free)
                let chosen = residents.filter { ids.contains($0.id) }
                #expect(chosen.count == ids.count, "every id is a resident, once")
                #expect(chosen.allSatisfy { $0.state == .ready && $0.inFlight == 0 && !$0.pinned }, "only idle, unpinned models")
                let freed = chosen.reduce(0) { $0 + $1.bytes }
                #expect(free + freed >= needed, "the eviction makes room")
                #expect(chosen.allSatisfy { free + freed - $0.bytes < needed }, "no model is evicted needlessly")
            case .wait:
                seen.insert("wait")
                #expect(needed <= planner.budgetBytes)
                #expect(free + evictableBytes < needed && free + evictableBytes + laterBytes >= needed)
            case .refuse(let refusal):
                seen.insert(refusal.kind.rawValue)
                if needed > planner.budgetBytes {
                    #expect(refusal.kind == .largerThanBudget)
                } else {
                    #expect(refusal.kind == .cannotMakeRoom)
                    #expect(free + evictableBytes + laterBytes < needed)
                }
            }
        }
        #expect(seen == ["fits", "evict one", "evict several", "wait", "largerThanBudget", "cannotMakeRoom"], "every kind of decision was exercised")
    }
}
