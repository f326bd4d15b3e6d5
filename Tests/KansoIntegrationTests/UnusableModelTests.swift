import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// A model file that can never load, through the real kansod: the first request gets
/// ModelUnavailable with the worker's own reason at once (one load, no retries with back-off),
/// Status shows the model failed with it, and a changed file is loaded again.
@Suite("Models that can never load, through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct UnusableModelTests {
    @Test("a GGUF of an unsupported architecture fails at once with the worker's reason, and is not retried until it changes")
    func unsupportedArchitecture() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let modelPath = harness.agentsDirectory.appendingPathComponent("broken.gguf")
        try Data(KansoctlPullTests.gguf(architecture: "phi3", tensorType: 0, tensorBytes: 4096)).write(to: modelPath)
        try harness.writeAgent("broken.toml", """
            name = "broken"
            task = "predict"
            model = "broken.gguf"
            prompt = "{text}"
            """)
        try harness.writeAgent("broken-too.toml", """
            name = "broken-too"
            task = "predict"
            model = "broken.gguf"
            prompt = "Also {text}"
            """)
        try harness.start(arguments: ["--threads", "1"])
        let client = try harness.client()
        for _ in 0..<2 {
            do {
                _ = try client.continuation(agent: "broken", text: "a", maxTokens: 2)
                Issue.record("a model of an unsupported architecture answered")
            } catch {
                guard case .remote(let remote) = error as? VarlinkClientError else { Issue.record("\(error)"); continue }
                #expect(remote.name == "io.kanso.Agents.ModelUnavailable")
                let reason = remote.parameters["reason"]?.stringValue ?? ""
                #expect(reason.contains("phi3") && !reason.contains("quarantined") && !reason.contains("exited"), "\(reason)")
            }
        }
        let model = try #require(try client.status().models.first)
        #expect(model.state == "failed")
        #expect(model.reason?.contains("not retried") == true, "\(model.reason ?? "")")
        // Both agents follow their model's state, the one never asked for too.
        #expect(try client.agents().agents.map(\.state) == ["failed", "failed"])
        #expect(try client.status().agents.map(\.state) == ["failed", "failed"])
        #expect(harness.log.components(separatedBy: "starting a worker").count - 1 == 1, "loaded more than once")
        #expect(!harness.log.contains("refused transition"))
    }
}
