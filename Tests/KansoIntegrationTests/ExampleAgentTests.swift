import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Agents that learn from examples, through the real kansod on SmolLM2-135M-Instruct: a classify
/// agent with examples answers from a head its worker trains on the model's hidden states of the
/// examples, writes it to the cache folder, and reads it back (not training again) in the next
/// worker; a zero-shot agent answers from calibrated label likelihoods.
@Suite("Agents with examples through kansod", .serialized,
       .enabled(if: RealModel.smolLM2.url != nil, Comment(rawValue: RealModel.smolLM2.missingMessage)))
struct ExampleAgentTests {
    static let examples = [
        ("I was charged twice for my subscription this month.", "billing"),
        ("Please refund the payment you took after I cancelled.", "billing"),
        ("My invoice shows the wrong price for the annual plan.", "billing"),
        ("Why did my card get charged again today?", "billing"),
        ("The app crashes every time I open the settings page.", "bug"),
        ("Sync fails with error 500 since the last update.", "bug"),
        ("The export button does nothing when I click it.", "bug"),
        ("Pictures upload sideways and the screen freezes.", "bug"),
    ]

    static func harness() throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let examples = Self.examples.map { "  { text = \"\($0.0)\", label = \"\($0.1)\" }," }.joined(separator: "\n")
        try harness.writeAgent("triage.toml", """
            name = "triage"
            task = "classify"
            model = "\(RealModel.smolLM2.rawValue)"
            template = "chat"
            system = "Sort the support ticket: billing or bug."
            prompt = "Ticket: {text}"
            labels = ["billing", "bug"]
            shots = 2
            examples = [
            \(examples)
            ]
            """)
        try harness.writeAgent("zero.toml", """
            name = "zero"
            task = "classify"
            model = "\(RealModel.smolLM2.rawValue)"
            template = "chat"
            prompt = "Ticket: {text}"
            labels = ["billing", "bug"]
            """)
        try harness.start(arguments: ["--threads", "2"], realModels: true)
        return harness
    }

    func headFiles(_ harness: DaemonHarness) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: harness.cacheDirectory)) ?? []).filter { $0.hasSuffix(".khead") }
    }

    @Test("a classify agent with examples answers from its head, cached and read back by the next worker; one without, from calibrated likelihoods")
    func headTrainedCachedReused() throws {
        let harness = try Self.harness()
        let client = try harness.client()
        let billing = try client.classify(agent: "triage", text: "You billed me two times for the same order, I want my money back.")
        #expect(billing.label == "billing", "\(billing.labels)")
        #expect(abs(billing.labels.map(\.probability).reduce(0, +) - 1) < 1e-6)
        #expect(harness.waitForLog("triage: answered by head (head "), "\(harness.log)")
        #expect(harness.log.contains("trained on 8 examples"), "\(harness.log)")
        let files = headFiles(harness)
        try #require(files.count == 1, "one head file in \(harness.cacheDirectory): \(files)")
        let path = harness.cacheDirectory + "/" + files[0]
        let written = try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date

        #expect(try client.classify(agent: "triage", text: "The app shows a blank screen and then crashes.").label == "bug")

        // On the same model, an agent without examples answers from calibrated label likelihoods.
        let zero = try client.classify(agent: "zero", text: "The app crashes every time I open it.")
        #expect(zero.labels.map(\.label) == ["billing", "bug"])
        #expect(abs(zero.labels.map(\.probability).reduce(0, +) - 1) < 1e-6)
        #expect(harness.waitForLog("zero: answered by calibrated likelihoods"), "\(harness.log)")

        // A new worker reads the head from the cache folder instead of training again.
        let trainedLines = harness.log.components(separatedBy: "trained on 8 examples").count
        #expect(try client.unload(agent: "triage"))
        let deadline = Date().addingTimeInterval(10)
        while try client.status().models.first?.state != "absent", Date() < deadline { usleep(20_000) }
        let again = try client.classify(agent: "triage", text: "You billed me two times for the same order, I want my money back.")
        #expect(again.labels == billing.labels, "the cached head gives the same probabilities")
        #expect(harness.waitForLog("read from \(path)"), "\(harness.log)")
        #expect(harness.log.components(separatedBy: "trained on 8 examples").count == trainedLines, "not trained again: \(harness.log)")
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date == written)
        #expect(headFiles(harness) == files)
    }
}
