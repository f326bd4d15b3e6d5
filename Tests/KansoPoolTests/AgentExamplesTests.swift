import Foundation
import KansoPool
import KansoTestSupport
import Testing

@Suite("Agent examples")
struct AgentExamplesTests {
    let reader = ManifestReader()
    let classify = """
    name = "triage"
    task = "classify"
    model = "m.gguf"
    prompt = "Sort the ticket.\\nTicket: {text}\\nCategory:"
    labels = ["billing", "bug"]

    """

    func problem(_ text: String, path: String = "/agents/triage.toml") -> ManifestProblem? {
        do {
            _ = try reader.parse(text, path: path)
            return nil
        } catch {
            return error
        }
    }

    @Test("inline examples of each task read into texts and answers; shots default to all of them")
    func inline() throws {
        let manifest = try reader.parse(classify + """
        examples = [{ text = "charged twice", label = "billing" }, { text = "app crashes", label = "bug" }]
        """, path: "/agents/triage.toml")
        #expect(manifest.examples == [AgentExample(text: "charged twice", answer: "billing"), AgentExample(text: "app crashes", answer: "bug")])
        #expect(manifest.shots == 2)
        let extract = try reader.parse("""
        name = "contact"
        task = "extract"
        model = "m.gguf"
        prompt = "Text: {text}\\nJSON:"
        schema = { type = "object", properties = { name = { type = "string" } } }
        examples = [{ text = "Ann Lee, Acme", value = { name = "Ann Lee", company = "Acme" } }]
        shots = 0
        """, path: "/agents/contact.toml")
        #expect(extract.examples == [AgentExample(text: "Ann Lee, Acme", answer: #"{"company":"Acme","name":"Ann Lee"}"#)])
        #expect(extract.shots == 0)
        let predict = try reader.parse("""
        name = "next"
        task = "predict"
        model = "m.gguf"
        prompt = "{text}"
        examples = [{ text = "Once upon", continuation = " a time" }]
        """, path: "/agents/next.toml")
        #expect(predict.examples == [AgentExample(text: "Once upon", answer: " a time")])
    }

    @Test("examples_file is JSON Lines beside the manifest; blank lines are skipped")
    func file() throws {
        let url = try AgentCatalogTests.folder(["triage.examples.jsonl": """
        {"text": "refund please", "label": "billing"}

        {"text": "it froze", "label": "bug"}
        """])
        defer { try? FileManager.default.removeItem(at: url) }
        let manifest = try reader.parse(classify + "examples_file = \"triage.examples.jsonl\"\nshots = 1\n",
                                        path: url.appendingPathComponent("triage.toml").path)
        #expect(manifest.examples.map(\.answer) == ["billing", "bug"])
        #expect(manifest.shots == 1)
    }

    @Test("a wrong example is a problem naming the key, the item or line, and what was expected")
    func problems() throws {
        let cases: [(String, String, String)] = [
            (#"examples = [{ text = "x", label = "refund" }]"#, "examples", "item 1: label \"refund\" is not one of the agent's labels (billing, bug)"),
            (#"examples = [{ text = "x", label = "bug" }, { label = "bug" }]"#, "examples", "item 2: text is missing or not a string"),
            (#"examples = [{ text = " ", label = "bug" }]"#, "examples", "item 1: text is empty"),
            (#"examples = [{ text = "x", value = { a = 1 } }]"#, "examples", "item 1: unknown key \"value\"; a classify agent's example has text and label"),
            (#"examples = [{ text = "x", label = 3 }]"#, "examples", "item 1: label must be a string, got 3"),
            (#"examples = [{ text = "x" }]"#, "examples", "item 1: label is missing"),
            (#"examples = "x""#, "examples", "expected a list of tables"),
            (#"examples = [{ text = "x", label = "bug" }]"# + "\nshots = 2", "shots", "expected 0 to 1 (the number of examples), got 2"),
            (#"examples = [{ text = "x", label = "bug" }]"# + "\nexamples_file = \"e.jsonl\"", "examples", "not both"),
            ("examples_file = \"absent.jsonl\"", "examples_file", "cannot read /agents/absent.jsonl"),
        ]
        for (extra, key, message) in cases {
            let found = try #require(problem(classify + extra), "accepted: \(extra)")
            #expect(found.file == "/agents/triage.toml")
            #expect(found.key == key, "\(extra): \(found)")
            #expect(found.message.contains(message), "\(extra): \(found)")
        }
        let long = String(repeating: "x", count: 4097)
        #expect(problem(classify + "examples = [{ text = \"\(long)\", label = \"bug\" }]")?.message.contains("4097 bytes, more than the limit of 4096") == true)
        let many = (0...1024).map { _ in #"{ text = "x", label = "bug" }"# }.joined(separator: ", ")
        #expect(problem(classify + "examples = [\(many)]")?.message == "1025 examples, more than the limit of 1024")
        let extract = """
        name = "contact"
        task = "extract"
        model = "m.gguf"
        prompt = "{text}"
        schema = { type = "object" }
        examples = [{ text = "x", value = "Ann" }]
        """
        #expect(problem(extract)?.message.contains("value must be a table (an object), got \"Ann\"") == true)
    }

    @Test("a line of an examples file that is not JSON names the file and line")
    func badLine() throws {
        let url = try AgentCatalogTests.folder(["e.jsonl": "{\"text\": \"a\", \"label\": \"bug\"}\n{\"text\": \"b\", \"label\": \n"])
        defer { try? FileManager.default.removeItem(at: url) }
        let path = url.appendingPathComponent("triage.toml").path
        let found = try #require(problem(classify + "examples_file = \"e.jsonl\"\n", path: path))
        #expect(found.key == "examples_file")
        #expect(found.message.contains(url.appendingPathComponent("e.jsonl").path + " line 2 is not valid JSON"), "\(found)")
    }

    @Test("shots become turns of a raw prompt before the line of {text}, the instruction once")
    func rawShots() {
        let prompt = AgentPrompt(raw: "Sort the ticket.\nTicket: {text}\nCategory:", shots: [("charged twice", "billing"), ("crash", "bug")])
        #expect(prompt.prefix == "Sort the ticket.\nTicket: charged twice\nCategory: billing\n\nTicket: crash\nCategory: bug\n\nTicket: ")
        #expect(prompt.suffix == "\nCategory:")
        #expect(AgentPrompt(raw: "{text}", shots: [("Once", " upon")]).prefix == "Once upon\n\n")
    }

    @Test("shots become user and assistant turns of a chat template")
    func chatShots() throws {
        let vocab = try #require(SharedData.file("vocab"), "\(SharedData.missingMessage("vocab"))")
        let url = try AgentCatalogTests.folder([
            "chat.toml": """
            name = "chat"
            task = "classify"
            model = "ggml-vocab-qwen2.gguf"
            template = "chat"
            system = "Sort tickets."
            labels = ["billing", "bug"]
            examples = [{ text = "refund", label = "billing" }, { text = "crash", label = "bug" }]
            shots = 1
            """,
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: [vocab.path]))
        #expect(catalog.problems.isEmpty, "\(catalog.problems)")
        #expect(catalog.entry(named: "chat")?.prompt?.prefix
            == "<|im_start|>system\nSort tickets.<|im_end|>\n<|im_start|>user\nrefund<|im_end|>\n<|im_start|>assistant\nbilling<|im_end|>\n<|im_start|>user\n")
    }
}
