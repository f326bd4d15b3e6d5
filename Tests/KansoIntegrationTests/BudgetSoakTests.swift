import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Issue 21: the two real models under a memory budget that holds one of them at a time, for a
/// minute. Eight clients alternate between an agent on each model, so most turns need the model
/// that is not loaded: the pool evicts the idle one to load the other. A request whose model must
/// wait for that eviction waits in its model's queue (README, How requests are served: a busy
/// model is never evicted, and after the waiting load's turn it starts no new request, so it goes
/// idle and is evicted; `BudgetExceeded` only when pinned models or requests running for the
/// whole admission timeout hold the room), so every request is answered. The workers' resident
/// memory, sampled from /proc every 10 ms for the whole run, never exceeds the budget.
/// It runs on the release kansod that KANSO_PRODUCTS names (scripts/test.sh sets it): a debug
/// engine is many times slower, too slow for several swaps in a minute.
@Suite("Memory budget soak on the real models", .serialized,
       .enabled(if: RealModel.smolLM2.url != nil, Comment(rawValue: RealModel.smolLM2.missingMessage)),
       .enabled(if: RealModel.gemma3.url != nil, Comment(rawValue: RealModel.gemma3.missingMessage)),
       .enabled(if: ReleaseProducts.named, Comment(rawValue: ReleaseProducts.missingMessage)))
struct BudgetSoakTests {
    static let clients = 8
    /// Seconds; KANSO_SOAK_SECONDS overrides it (longer soaks by hand).
    static let duration = ProcessInfo.processInfo.environment["KANSO_SOAK_SECONDS"].flatMap(TimeInterval.init) ?? 60
    /// Microseconds between two samples of the workers' memory.
    static let sampleInterval: useconds_t = 10_000

    static let predictAgent = "soak-smollm2"
    static let classifyAgent = "soak-gemma3"
    static let labels = ["billing", "bug", "feature request", "account"]
    static let texts = ["I was charged twice this month", "The app crashes when I open settings",
                        "Please add a dark mode", "I cannot log in to my account"]

    /// One agent on each model; short calls (4 tokens, or one scoring of 4 labels). A keep-alive
    /// of 10 minutes: within the run, only evictions end a worker.
    static func writeAgents(_ harness: DaemonHarness) throws {
        try harness.writeAgent("\(predictAgent).toml", """
            name = "\(predictAgent)"
            task = "predict"
            model = "\(RealModel.smolLM2.rawValue)"
            prompt = "{text}"
            max_tokens = 4
            keep_alive = "10m"
            """)
        try harness.writeAgent("\(classifyAgent).toml", """
            name = "\(classifyAgent)"
            task = "classify"
            model = "\(RealModel.gemma3.rawValue)"
            prompt = "Ticket: {text}\\nCategory:"
            labels = [\(labels.map { "\"\($0)\"" }.joined(separator: ", "))]
            keep_alive = "10m"
            """)
    }

    /// The budget, from what a first daemon with the same agents reports in Status once both
    /// models are loaded (bytes). Admission charges a model its estimate before its first load and
    /// its measured charge after, so each model alone costs at most the larger of the two
    /// (`alone`), and both together at least the sum of the smaller ones (`together`).
    /// Budget = the larger model's `alone` + the spare worker's share: that model fits with the
    /// spare worker beside it, so every swap loads into a started worker as a user's daemon does
    /// and the samples count the spare too; the smaller model, charged several times the spare's
    /// share, never fits beside the larger one.
    struct BudgetChoice {
        var budget: Int
        var alone: [String: Int]
        var together: Int
        var spareShare: Int
        /// The two workers' resident bytes after their loads, summed.
        var residentTogether: Int
    }

    static func chooseBudget(_ probe: DaemonHarness) throws -> BudgetChoice {
        try writeAgents(probe)
        // Room for both models and the spare worker.
        try probe.start(arguments: ["--memory-budget", "1G"], realModels: true)
        let client = try probe.client()
        for agent in [predictAgent, classifyAgent] { _ = try client.load(agent: agent) }
        let status = try client.status()
        try #require(status.models.count == 2, "\(status.models)")
        var alone: [String: Int] = [:]
        var together = 0
        for model in status.models {
            let charged = model.chargedBytes ?? model.estimatedBytes
            alone[URL(fileURLWithPath: model.path).lastPathComponent] = max(model.estimatedBytes, charged)
            together += min(model.estimatedBytes, charged)
        }
        let spareShare = status.budget.spareWorkerBytes ?? 32 << 20
        let budget = alone.values.max()! + spareShare
        try #require(together > budget, "both models would fit: \(together) bytes charged together, budget \(budget)")
        let residentTogether = status.models.reduce(0) { $0 + ($1.measuredBytes ?? 0) }
        probe.signal(SIGTERM)
        try #require(probe.waitForExit() != nil, "the probe daemon did not stop")
        return BudgetChoice(budget: budget, alone: alone, together: together, spareShare: spareShare, residentTogether: residentTogether)
    }

    @Test("8 clients alternate for a minute between two real models under a one-model budget: every request answered, evictions, never over budget")
    func oneModelAtATime() throws {
        let probe = try DaemonHarness(copyShippedAgents: false)
        let choice = try Self.chooseBudget(probe)

        let harness = try DaemonHarness(copyShippedAgents: false)
        try Self.writeAgents(harness)
        // The probe's packed-weight cache: each load maps the packed weights, as a user's daemon
        // does after a model's first load.
        try harness.start(arguments: ["--memory-budget", "\(choice.budget)"],
                          environment: ["CACHE_DIRECTORY": probe.cacheDirectory], realModels: true)
        let daemon = try #require(harness.process?.processIdentifier)
        let sampler = WorkerMemorySampler(daemon: daemon, interval: Self.sampleInterval)
        defer { sampler.stop() }

        let watch = EvictionWatch(try harness.client())
        // Requests on one model until the watch has seen an event: from then on it sees every
        // eviction (none can happen while only one model is asked for).
        let client = try harness.client()
        var warmUps = 0
        while watch.events == 0 && warmUps < 100 {
            _ = try client.continuation(agent: Self.predictAgent, text: "Hello", maxTokens: 1)
            warmUps += 1
        }
        try #require(watch.events > 0, "the Watch stream showed no event after \(warmUps) requests")

        let deadline = Date().addingTimeInterval(Self.duration)
        let tally = SoakTally()
        let finished = DispatchGroup()
        for index in 0..<Self.clients {
            // Made here: the threads must not keep the harness (and its daemon) alive.
            let connection = try harness.client()
            finished.enter()
            Thread {
                defer { finished.leave() }
                Self.alternate(connection, index: index, until: deadline, tally: tally)
            }.start()
        }
        // A guard against a hang only (a call has no timeout of its own), far beyond any turn.
        try #require(finished.wait(timeout: .now() + Self.duration + 300) == .success,
                     "the clients were still waiting long after the run; answered so far: \(tally.answered)")
        sampler.stop()

        let status = try harness.client().status()
        let evictions = status.models.reduce(0) { $0 + $1.evictions }
        let requests = status.models.reduce(0) { $0 + $1.requests }
        let watched = watch.waitForEvictions(evictions)
        let peak = sampler.peak
        let failures = tally.failures
        let answered = tally.answered
        #expect(failures.isEmpty, "\(failures.count) requests failed, e.g. \(failures.prefix(5))")
        #expect(answered.predict > 0 && answered.classify > 0, "answered: \(answered)")
        #expect(requests == answered.predict + answered.classify + warmUps,
                "Status counts \(requests) requests; the clients got \(answered) answers after \(warmUps) warm-ups")
        #expect(evictions >= 4, "only \(evictions) evictions: \(status.models.map { ($0.path, $0.evictions, $0.lastEvictionReason) })")
        #expect(watched == evictions, "Watch showed \(watched) evictions, Status counts \(evictions)")
        #expect(sampler.samples > 0)
        #expect(peak.bytes <= choice.budget,
                "workers held \(peak.bytes) bytes (\(peak.workers)) over the budget of \(choice.budget)")
        // One model's worker and the spare worker: never two models at once.
        #expect(sampler.mostWorkers <= 2, "\(sampler.mostWorkers) workers at once")
        for model in status.models {
            #expect(model.state == "ready" || model.state == "busy" || model.state == "absent", "\(model.path): \(model.state) \(model.reason ?? "")")
        }
        let mebibytes = { (bytes: Int) in String(format: "%.1f MiB", Double(bytes) / 1_048_576) }
        print("""
            budget soak: budget \(choice.budget) bytes (\(mebibytes(choice.budget))) = the larger model alone \
            (\(choice.alone.map { "\($0.key) \(mebibytes($0.value))" }.sorted().joined(separator: ", "))) + the spare's \
            \(mebibytes(choice.spareShare)); both charged together \(mebibytes(choice.together)), resident together \
            \(mebibytes(choice.residentTogether)). In \(Int(Self.duration)) s, \(Self.clients) clients: \(answered.predict) predict + \
            \(answered.classify) classify answered, \(failures.count) failed; Status: \(requests) requests (\(warmUps) warm-ups), \
            \(evictions) evictions (Watch: \(watched)). Workers' resident memory, \(sampler.samples) samples: at most \
            \(peak.bytes) bytes (\(mebibytes(peak.bytes)), \(peak.workers)) of \(choice.budget); at most \(sampler.mostWorkers) workers at once.
            """)
    }

    /// One client: alternates between the two agents until `deadline`, checking each reply.
    static func alternate(_ client: KansoClient, index: Int, until deadline: Date, tally: SoakTally) {
        var turn = index  // half the clients start on each model
        while Date() < deadline {
            defer { turn += 1 }
            let text = texts[turn % texts.count]
            if turn % 2 == 0 {
                do {
                    let reply = try client.continuation(agent: predictAgent, text: text, maxTokens: nil)
                    if reply.agent == predictAgent, reply.done, (reply.generatedTokens ?? 0) > 0 {
                        tally.answer(predict: true)
                    } else {
                        tally.fail("\(predictAgent): an unexpected reply \(reply)")
                    }
                } catch {
                    tally.fail("\(predictAgent): \(error)")
                }
            } else {
                do {
                    let reply = try client.classify(agent: classifyAgent, text: text)
                    let total = reply.labels.reduce(0) { $0 + $1.probability }
                    if reply.agent == classifyAgent, Set(reply.labels.map(\.label)) == Set(labels), abs(total - 1) < 1e-6 {
                        tally.answer(predict: false)
                    } else {
                        tally.fail("\(classifyAgent): an unexpected reply \(reply)")
                    }
                } catch {
                    tally.fail("\(classifyAgent): \(error)")
                }
            }
        }
    }
}

/// Whether KANSO_PRODUCTS names the folder of a release kansod (DaemonHarness.productsDirectory).
enum ReleaseProducts {
    static let named = !(ProcessInfo.processInfo.environment["KANSO_PRODUCTS"] ?? "").isEmpty
    static let missingMessage = "skipped: needs a release kansod: KANSO_PRODUCTS=$(swift build -c release --show-bin-path) (scripts/test.sh sets it)"
}

/// The clients' answers and failures.
final class SoakTally: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var predicts = 0
    private var classifies = 0
    private var failed: [String] = []

    func answer(predict: Bool) {
        lock.lock()
        if predict { predicts += 1 } else { classifies += 1 }
        lock.unlock()
    }

    func fail(_ reason: String) { lock.lock(); failed.append(reason); lock.unlock() }

    var answered: (predict: Int, classify: Int) { lock.lock(); defer { lock.unlock() }; return (predicts, classifies) }
    var failures: [String] { lock.lock(); defer { lock.unlock() }; return failed }
}

/// Samples the resident memory of a daemon's workers (its child processes, the spare one
/// included) on a thread of its own until stopped, and keeps the largest sum seen.
final class WorkerMemorySampler: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var stopped = false
    private var peakBytes = 0
    private var peakWorkers: [(pid: Int32, residentBytes: Int)] = []
    private var workers = 0
    private var count = 0
    private let ended = DispatchSemaphore(value: 0)

    init(daemon: Int32, interval: useconds_t) {
        Thread { [self] in
            while !isStopped {
                let children = ChildProcesses.listed(by: daemon)
                record(children)
                usleep(interval)
            }
            ended.signal()
        }.start()
    }

    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    private func record(_ children: [(pid: Int32, residentBytes: Int)]) {
        let bytes = children.reduce(0) { $0 + $1.residentBytes }
        lock.lock()
        count += 1
        workers = max(workers, children.count)
        if bytes > peakBytes {
            peakBytes = bytes
            peakWorkers = children
        }
        lock.unlock()
    }

    /// Ends the sampling thread and waits for it (calling it again does nothing).
    func stop() {
        lock.lock()
        let first = !stopped
        stopped = true
        lock.unlock()
        if first { ended.wait() }
    }

    /// The largest sum of the workers' resident bytes, and the workers then ("pid: bytes").
    var peak: (bytes: Int, workers: String) {
        lock.lock()
        defer { lock.unlock() }
        return (peakBytes, peakWorkers.map { "\($0.pid): \($0.residentBytes)" }.joined(separator: ", "))
    }

    var mostWorkers: Int { lock.lock(); defer { lock.unlock() }; return workers }
    var samples: Int { lock.lock(); defer { lock.unlock() }; return count }
}

/// Counts the pool's events and its evictions from a Watch stream, on a thread of its own
/// (which ends when the daemon closes the stream).
final class EvictionWatch: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var eventCount = 0
    private var evictionCount = 0

    init(_ client: KansoClient) {
        Thread { [self] in
            try? client.watch { event in
                lock.lock()
                eventCount += 1
                if event.kind == .eviction { evictionCount += 1 }
                lock.unlock()
                return true
            }
        }.start()
    }

    var events: Int { lock.lock(); defer { lock.unlock() }; return eventCount }
    var evictions: Int { lock.lock(); defer { lock.unlock() }; return evictionCount }

    /// Waits (a few seconds at most) until the stream has shown `expected` evictions, since it
    /// may lag behind Status; returns how many it showed.
    func waitForEvictions(_ expected: Int) -> Int {
        let deadline = Date().addingTimeInterval(5)
        while evictions < expected && Date() < deadline { usleep(10_000) }
        return evictions
    }
}
