import Foundation
import KansoConcurrency
import KansoTestSupport
import KansoWire
import Testing

/// Continuous batching through the real daemon (issue 26): 8 streamed predicts (4 greedy, 4 with
/// seeded sampling) and 4 classifies on one model at the same time are all answered, all in flight
/// together (every stream's first piece arrives before any stream ends, Status counts them
/// running at once), and each gives what it gives alone: the same text, the same label
/// probabilities. The agents are `reproducible` (README: without it, a request alone takes the
/// vector kernels and its last bits, and so at times its tokens, differ from the same request's
/// in company).
@Suite("kansod continuous batching", .serialized)
struct BatchingTests {
    static let texts = [
        "Once upon a time, a little fox", "The weather today is", "My favourite recipe starts with",
        "In the year 2050, cities", "The old lighthouse keeper", "To fix a flat bicycle tyre,",
        "Dear customer, we are writing", "The best way to learn a language",
    ]
    static let tickets = [
        "I was charged twice for my subscription this month", "The app crashes when I open settings",
        "Please add a dark mode to the dashboard", "I cannot log in after changing my e-mail address",
    ]

    /// One request's answer: a continuation's text, or a classification's probabilities.
    enum Answer: Equatable {
        case text(String)
        case probabilities([String: Double])
    }

    private static func harness(model: String) throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("greedy.toml", """
            name = "greedy"
            reproducible = true
            task = "predict"
            model = "\(model)"
            prompt = "{text}"
            max_tokens = 40
            [sampling]
            temperature = 0
            """)
        try harness.writeAgent("seeded.toml", """
            name = "seeded"
            reproducible = true
            task = "predict"
            model = "\(model)"
            prompt = "{text}"
            max_tokens = 40
            [sampling]
            temperature = 0.9
            top_k = 40
            seed = 42
            """)
        try harness.writeAgent("triage.toml", """
            name = "triage"
            reproducible = true
            task = "classify"
            model = "\(model)"
            prompt = "Ticket: {text}\\nCategory:"
            labels = ["billing", "bug", "feature request", "account"]
            """)
        // 16 sequences: the 12 requests (normal priority) all run at once; the last lane is kept
        // for interactive requests.
        try harness.start(arguments: ["--max-sequences", "16"], realModels: true)
        return harness
    }

    /// The 12 requests: (agent, text) and how to run one.
    static var requests: [(agent: String, text: String)] {
        texts.enumerated().map { ($0.offset < 4 ? "greedy" : "seeded", $0.element) } + tickets.map { ("triage", $0) }
    }

    private static func run(_ request: (agent: String, text: String), client: KansoClient,
                            onFirstPiece: @escaping () -> Void = {}) throws -> Answer {
        if request.agent == "triage" {
            let reply = try client.classify(agent: request.agent, text: request.text)
            onFirstPiece()
            return .probabilities(Dictionary(uniqueKeysWithValues: reply.labels.map { ($0.label, $0.probability) }))
        }
        var text = "", first = true
        let final = try client.continuation(agent: request.agent, text: request.text, maxTokens: nil) { piece in
            if first { onFirstPiece(); first = false }
            text += piece
            return true
        }
        #expect(final.done)
        return .text(text + (final.text ?? ""))
    }

    @Test("SmolLM2: 8 predicts and 4 classifies at once are all answered together, each as it is alone",
          .enabled(if: RealModel.smolLM2.url != nil, "\(RealModel.smolLM2.missingMessage)"))
    func concurrentRequestsAnswerAsAlone() throws {
        let harness = try Self.harness(model: RealModel.smolLM2.rawValue)
        let client = try harness.client()
        let requests = Self.requests
        let alone = try requests.map { try Self.run($0, client: client) }

        let answers = Locked<[Int: Answer]>([:])
        let failures = Locked<[String]>([])
        let firstPieces = Locked<[Int: Date]>([:])
        let ends = Locked<[Int: Date]>([:])
        let clients = try requests.map { _ in try harness.client() }
        let start = DispatchSemaphore(value: 0)
        let done = DispatchGroup()
        for (index, request) in requests.enumerated() {
            done.enter()
            Thread {
                defer { done.leave() }
                start.wait()
                do {
                    let answer = try Self.run(request, client: clients[index]) { firstPieces.update { $0[index] = Date() } }
                    ends.update { $0[index] = Date() }
                    answers.update { $0[index] = answer }
                } catch {
                    failures.update { $0.append("\(request.agent) \"\(request.text)\": \(error)") }
                }
            }.start()
        }
        // Status, read while they run: the most requests its worker ran at once.
        let mostRunning = Locked(0)
        let watching = Locked(true)
        let statusClient = try harness.client()
        let watcher = DispatchGroup()
        watcher.enter()
        Thread {
            defer { watcher.leave() }
            while watching.current {
                if let running = (try? statusClient.status())?.models.first?.running {
                    mostRunning.update { $0 = max($0, running) }
                }
                usleep(5_000)
            }
        }.start()
        for _ in requests { start.signal() }
        #expect(done.wait(timeout: .now() + 600) == .success, "the 12 requests were not all answered within 600 s")
        watching.set(false)
        watcher.wait()
        #expect(mostRunning.current >= 8, "Status showed at most \(mostRunning.current) requests running at once")
        let status = try statusClient.status().models.first
        #expect(status?.sequences == 16 && status?.running == 0, "\(String(describing: status))")
        #expect(failures.current.isEmpty, "\(failures.current)")

        for (index, request) in requests.enumerated() {
            let answer = try #require(answers.current[index], "no answer for \(request.agent) \"\(request.text)\"")
            switch (answer, alone[index]) {
            case (.text(let together), .text(let single)):
                #expect(together == single, "\(request.agent) \"\(request.text)\": batched \"\(together)\", alone \"\(single)\"")
                #expect(!together.isEmpty)
            case (.probabilities(let together), .probabilities(let single)):
                for (label, probability) in single {
                    #expect(together[label] == probability,
                            "\(request.text), \(label): batched \(together[label] ?? -1), alone \(probability)")
                }
            default:
                Issue.record("\(request.agent): a different kind of answer")
            }
        }
        // All in flight together: every stream started before any stream ended.
        let streams = requests.indices.filter { requests[$0].agent != "triage" }
        let lastStart = try #require(streams.compactMap { firstPieces.current[$0] }.max())
        let firstEnd = try #require(streams.compactMap { ends.current[$0] }.min())
        #expect(lastStart < firstEnd, "a stream started only after another had ended: the requests were not decoded together")
    }
}
