import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Pre-emption through the real daemon (DESIGN.md, Queues): while a background agent generates a
/// long continuation on a model, an interactive classify on the same model is answered at the
/// generation's next token boundary, before the generation finishes, and the generation then
/// goes on to its end with its stream intact.
@Suite("kansod pre-emption at token boundaries", .serialized)
struct PreemptionTests {
    /// A daemon with a background predict agent and an interactive classify agent on `model`.
    private static func harness(model: String, realModels: Bool, chat: Bool) throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let template = chat ? "template = \"chat\"\nprompt = \"Write a very long story about a dragon and a knight.\\n{text}\"" : "prompt = \"{text}\""
        try harness.writeAgent("long-background.toml", """
            name = "long-background"
            task = "predict"
            model = "\(model)"
            priority = "background"
            max_tokens = 300
            \(template)
            [sampling]
            temperature = 0.8
            seed = 7
            """)
        try harness.writeAgent("urgent-triage.toml", """
            name = "urgent-triage"
            task = "classify"
            model = "\(model)"
            priority = "interactive"
            prompt = "Ticket: {text}\\nCategory:"
            labels = ["billing", "bug", "feature request", "account"]
            """)
        try harness.start(realModels: realModels)
        return harness
    }

    /// What one run saw: the order of events on the background stream and the classify's answer.
    private final class Timeline: @unchecked Sendable {  // guarded by `lock`
        private let lock = NSLock()
        private(set) var piecesBeforeClassify = 0
        private(set) var piecesAfterClassify = 0
        private(set) var classified = false
        private(set) var finalBeforeClassify = false
        private(set) var final: PredictReply?

        func piece() {
            lock.lock(); defer { lock.unlock() }
            if classified { piecesAfterClassify += 1 } else { piecesBeforeClassify += 1 }
        }

        func finished(_ reply: PredictReply) {
            lock.lock(); defer { lock.unlock() }
            final = reply
            if !classified { finalBeforeClassify = true }
        }

        func classifyAnswered() {
            lock.lock(); defer { lock.unlock() }
            classified = true
        }

        var started: Bool {
            lock.lock(); defer { lock.unlock() }
            return piecesBeforeClassify > 0
        }
    }

    /// Runs the scenario. `piecesAfterClassify` nil: the generation runs to its end (300 tokens
    /// or the model's end of text); a number: the client stops reading (cancelling the generation)
    /// once that many pieces came after the classify, for models too slow in a debug build to
    /// generate 300 tokens within a test.
    private static func run(model: String, realModels: Bool, chat: Bool, piecesAfterClassify: Int? = nil) throws {
        let harness = try Self.harness(model: model, realModels: realModels, chat: chat)
        _ = try harness.client().classify(agent: "urgent-triage", text: "warm up")  // model loaded, prefix computed
        let timeline = Timeline()
        // The stream's own client, made here: the thread must not keep the harness (and its daemon) alive.
        let streamClient = try harness.client()
        let done = DispatchSemaphore(value: 0)
        Thread {
            defer { done.signal() }
            do {
                let final = try streamClient.continuation(agent: "long-background", text: "Once upon a time", maxTokens: 300) { _ in
                    timeline.piece()
                    return piecesAfterClassify.map { timeline.piecesAfterClassify < $0 } ?? true
                }
                timeline.finished(final)
            } catch {
                if piecesAfterClassify == nil { Issue.record("the background generation failed: \(error)") }
            }
        }.start()
        let deadline = Date().addingTimeInterval(120)
        while !timeline.started && Date() < deadline { usleep(1_000) }
        try #require(timeline.started, "the background generation streamed nothing for 120 s")

        let answer = try harness.client().classify(agent: "urgent-triage", text: "I was charged twice for my subscription")
        timeline.classifyAnswered()
        #expect(answer.labels.count == 4)
        #expect(abs(answer.labels.reduce(0) { $0 + $1.probability } - 1) < 1e-6)
        let status = try harness.client().status()
        let modelStatus = status.models.first { $0.path.hasSuffix(model) }
        #expect(modelStatus?.preemptions == 1, "Status counts the pre-emption: \(String(describing: modelStatus))")

        #expect(done.wait(timeout: .now() + 300) == .success, "the background generation did not end within 300 s")
        #expect(!timeline.finalBeforeClassify,
                "the interactive classify was answered only after the background generation's last token")
        #expect(timeline.piecesAfterClassify > 0, "the generation went on after the classify")
        if piecesAfterClassify == nil {
            let final = try #require(timeline.final, "the background generation ended without its final reply")
            #expect(final.done)
        }
    }

    @Test("stories260K: an interactive classify is answered while a 300-token background generation runs",
          .enabled(if: SharedData.stories260K != nil, "\(SharedData.missingMessage("models/stories260K.gguf"))"))
    func storiesPreemption() throws {
        try Self.run(model: "stories260K.gguf", realModels: false, chat: false)
    }

    @Test("SmolLM2: an interactive classify is answered while a 300-token background generation runs, which then goes on",
          .enabled(if: RealModel.smolLM2.url != nil, "\(RealModel.smolLM2.missingMessage)"))
    func smolLM2Preemption() throws {
        try Self.run(model: RealModel.smolLM2.rawValue, realModels: true, chat: true, piecesAfterClassify: 3)
    }
}
