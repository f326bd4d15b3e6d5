import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// The three jobs end to end through the daemon, on the real stories260K model.
@Suite("Jobs through kansod", .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct JobsTests {
    /// A harness with agents on stories260K: a predictor (greedy), two classifiers with escalation.
    static func harness() throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("story.toml", """
            name = "story"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "Once upon a time{text}"
            max_tokens = 24
            context_length = 512
            [sampling]
            temperature = 0
            """)
        try harness.writeAgent("who.toml", """
            name = "who"
            task = "classify"
            model = "stories260K.gguf"
            prompt = "Once upon a time, there was a little {text} named"
            labels = ["Lily", "Tom", "Sue", "Max"]
            escalate_below = 0.99
            escalate_to = "who-large"
            """)
        try harness.writeAgent("who-large.toml", """
            name = "who-large"
            task = "classify"
            model = "stories260K.gguf"
            prompt = "Once upon a time, there was a little {text} named"
            labels = ["Lily", "Tom", "Sue", "Max"]
            """)
        try harness.writeAgent("card.toml", """
            name = "card"
            task = "extract"
            model = "stories260K.gguf"
            prompt = "Once upon a time, there was {text}. Her card said:"
            max_tokens = 120
            context_length = 512
            schema_file = "card.schema.json"
            """)
        try """
            {"type": "object", "properties": {
              "name": {"type": "string", "maxLength": 12},
              "age": {"type": "integer", "minimum": 1, "maximum": 99},
              "happy": {"type": "boolean"},
              "pet": {"type": "string", "enum": ["dog", "cat", "bird"]},
              "toys": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3}
            }, "required": ["name", "age", "pet"]}
            """.write(to: harness.agentsDirectory.appendingPathComponent("card.schema.json"), atomically: true, encoding: .utf8)
        try harness.start(arguments: ["--threads", "1"])
        return harness
    }

    @Test("extraction gives JSON valid against the schema from a model that only knows stories")
    func extract() throws {
        let harness = try Self.harness()
        for text in ["a little girl named Lily", "a big dog", "🙂 ünïcödé \"quotes\""] {
            let reply = try harness.client().extract(agent: "card", text: text)
            let object = try #require(reply.value.objectValue, "\(reply.value)")
            let name = try #require(object["name"]?.stringValue)
            #expect(name.count <= 12)
            let age = try #require(object["age"]?.intValue)
            #expect((1...99).contains(age))
            #expect(["dog", "cat", "bird"].contains(object["pet"]?.stringValue ?? ""))
            if let happy = object["happy"] { #expect(happy.boolValue != nil) }
            if let toys = object["toys"] {
                let items = try #require(toys.arrayValue)
                #expect(items.count <= 3 && items.allSatisfy { ($0.stringValue?.count ?? 99) <= 8 })
            }
            #expect(Set(object.keys).isSubset(of: ["name", "age", "happy", "pet", "toys"]))
        }
    }

    @Test("a schema the grammar cannot compile rejects the manifest, naming the keyword")
    func unsupportedSchema() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("bad.toml", """
            name = "bad"
            task = "extract"
            model = "stories260K.gguf"
            prompt = "{text}"
            schema = { type = "object", properties = { code = { type = "string", pattern = "^[A-Z]+$" } } }
            """)
        try harness.start()
        let problems = try harness.client().status().problems
        #expect(problems.count == 1)
        #expect(problems.first?.key == "schema")
        #expect(problems.first?.message.contains("pattern") == true, "\(problems)")
    }

    @Test("streamed and whole continuations agree, and match the model's greedy text")
    func predictContinuation() throws {
        let harness = try Self.harness()
        let client = try harness.client()
        let whole = try client.continuation(agent: "story", text: ",", maxTokens: 20)
        #expect(whole.text?.hasPrefix(" there was a little girl named Lily.") == true, "\(whole)")
        var pieces: [String] = []
        let final = try client.continuation(agent: "story", text: ",", maxTokens: 20) { pieces.append($0); return true }
        #expect(pieces.count > 5)
        #expect(pieces.joined() + (final.text ?? "") == whole.text)
        #expect(final.generatedTokens == 20)
    }

    @Test("next words are whole words, most likely first")
    func predictWords() throws {
        let harness = try Self.harness()
        let reply = try harness.client().nextWords(agent: "story", text: ", there was a little girl named ", count: 3)
        let words = try #require(reply.words)
        #expect(words.first?.word == "Lily")
        #expect(words.count == 3)
        #expect(zip(words, words.dropFirst()).allSatisfy { $0.probability >= $1.probability })
    }

    @Test("classification: probabilities sum to 1; below the threshold the larger agent answers")
    func classifyAndEscalate() throws {
        let harness = try Self.harness()
        let reply = try harness.client().classify(agent: "who", text: "girl")
        #expect(abs(reply.labels.map(\.probability).reduce(0, +) - 1) < 1e-9)
        #expect(reply.label == "Lily")
        // Confidence is below 0.99, so who-large answered.
        #expect(reply.agent == "who-large")
        #expect(reply.escalatedFrom == "who")
        let direct = try harness.client().classify(agent: "who-large", text: "girl")
        #expect(direct.escalatedFrom == nil)
        #expect(direct.labels == reply.labels, "the same model and prompt give the same scores")
    }

    @Test("bad input gets typed errors and the daemon serves on")
    func badInput() throws {
        let harness = try Self.harness()
        let connection = try VarlinkConnection(path: harness.socketPath)
        func error(_ method: String, _ parameters: [String: JSONValue]) -> String? {
            do {
                _ = try connection.call(VarlinkCall(method: method, parameters: parameters))
                return nil
            } catch {
                if case .remote(let remote) = error { return remote.name + " " + JSONValue.object(remote.parameters).compactJSON }
                return "\(error)"
            }
        }
        #expect(error("io.kanso.Agents.Classify", ["agent": .string("nobody"), "text": .string("x")])?.hasPrefix("io.kanso.Agents.AgentNotFound") == true)
        #expect(error("io.kanso.Agents.Classify", ["agent": .string("who"), "text": .string("")])?.contains("InvalidInput") == true)
        #expect(error("io.kanso.Agents.Classify", ["agent": .string("story"), "text": .string("x")])?.contains("does predict, not classify") == true)
        #expect(error("io.kanso.Agents.Predict", ["agent": .string("story"), "text": .int(3)])?.hasPrefix("org.varlink.service.InvalidParameter") == true)
        #expect(error("io.kanso.Agents.Predict", ["agent": .string("story"), "text": .string("x"), "words": .int(0)])?.contains("InvalidInput") == true)
        let long = String(repeating: "and then they played ", count: 200)
        let tooLong = error("io.kanso.Agents.Predict", ["agent": .string("story"), "text": .string(long)])
        #expect(tooLong?.contains("io.kanso.Agents.InvalidInput") == true && tooLong?.contains("max_input_tokens = 512") == true, "\(tooLong ?? "accepted")")
        #expect(try harness.client().classify(agent: "who-large", text: "girl").label == "Lily")
    }

    @Test("the python varlink client runs each job")
    func thirdPartyClient() throws {
        let harness = try Self.harness()
        let python = try #require(DaemonHarness.which("python3"))
        let program = """
        import json, sys, varlink
        with varlink.Client(address="unix:" + sys.argv[1]) as client:
            with client.open("io.kanso.Agents") as agents:
                out = {"classify": agents.Classify(agent="who-large", text="girl"),
                       "words": agents.Predict(agent="story", text=", there was a little girl named ", words=2),
                       "stream": [r for r in agents.Predict(agent="story", text=",", maxTokens=8, _more=True)]}
        print(json.dumps(out))
        """
        let result = try DaemonHarness.run(python, ["-c", program, harness.socketPath])
        try #require(result.status == 0, "\(result.error)")
        let out = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        #expect((out["classify"] as? [String: Any])?["label"] as? String == "Lily")
        #expect(((out["words"] as? [String: Any])?["words"] as? [[String: Any]])?.first?["word"] as? String == "Lily")
        let stream = try #require(out["stream"] as? [[String: Any]])
        #expect(stream.last?["done"] as? Bool == true)
        #expect(stream.dropLast().allSatisfy { $0["done"] as? Bool == false })
    }
}
