import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// An agent accepts text up to its `max_input_tokens` (its model's context was sized for it):
/// longer text is refused with InvalidInput naming the limit, or cut from the front where the
/// manifest sets `truncate = true`; a request may not ask for more tokens than `max_tokens`.
@Suite("Input limits through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct InputLimitTests {
    static func harness() throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        for (name, truncate) in [("strict", false), ("cut", true)] {
            try harness.writeAgent("\(name).toml", """
                name = "\(name)"
                task = "classify"
                model = "stories260K.gguf"
                prompt = "Once upon a time, there was a little {text} named"
                labels = ["Lily", "Tom", "Sue", "Max"]
                max_input_tokens = 8
                truncate = \(truncate)
                """)
        }
        try harness.writeAgent("teller.toml", """
            name = "teller"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "{text}"
            max_input_tokens = 8
            max_tokens = 10
            """)
        try harness.start(arguments: ["--threads", "1"])
        return harness
    }

    static func remoteError(_ body: () throws -> Void) -> String {
        do {
            try body()
            return "accepted"
        } catch {
            if case .remote(let remote) = error as? VarlinkClientError {
                return remote.name + " " + JSONValue.object(remote.parameters).compactJSON
            }
            return "\(error)"
        }
    }

    @Test func longTextIsRefusedOrCut() throws {
        let harness = try Self.harness()
        let client = try harness.client()
        let long = String(repeating: "dog and ", count: 40) + "girl"
        #expect(try client.classify(agent: "strict", text: "girl").labels.count == 4)
        let refused = Self.remoteError { _ = try client.classify(agent: "strict", text: long) }
        #expect(refused.contains("io.kanso.Agents.InvalidInput") && refused.contains("max_input_tokens = 8"), "\(refused)")
        let cut = try client.classify(agent: "cut", text: long)
        #expect(abs(cut.labels.reduce(0) { $0 + $1.probability } - 1) < 1e-6)
        let words = Self.remoteError { _ = try client.nextWords(agent: "teller", text: long, count: 3) }
        #expect(words.contains("max_input_tokens = 8"), "\(words)")
        let tooMany = Self.remoteError { _ = try client.continuation(agent: "teller", text: "Once", maxTokens: 11) }
        #expect(tooMany.contains("io.kanso.Agents.InvalidInput") && tooMany.contains("max_tokens"), "\(tooMany)")
        #expect(try client.continuation(agent: "teller", text: "Once", maxTokens: 10).generatedTokens ?? 0 > 0)
    }
}
