import Foundation
import KansoPool
import KansoTestSupport
import Testing

@Suite("Agent catalog")
struct AgentCatalogTests {
    /// A temporary folder with the given files.
    static func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-catalog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

    func folder(_ files: [String: String]) throws -> URL { try Self.folder(files) }

    func manifest(_ name: String, model: String = "m.gguf", extra: String = "") -> String {
        "name = \"\(name)\"\ntask = \"classify\"\nmodel = \"\(model)\"\nprompt = \"{text}\"\nlabels = [\"x\", \"y\"]\n\(extra)"
    }

    @Test("a broken manifest is reported and skipped; the rest load")
    func brokenSkipped() throws {
        let url = try folder([
            "a.toml": manifest("a"), "b.toml": "name = ", "c.toml": manifest("c"), "notes.txt": "ignored",
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.names == ["a", "c"])
        #expect(catalog.problems.count == 1)
        #expect(catalog.problems.first?.file == url.appendingPathComponent("b.toml").path)
    }

    @Test("a duplicate name is a problem of the later file")
    func duplicates() throws {
        let url = try folder(["1.toml": manifest("same"), "2.toml": manifest("same")])
        defer { try? FileManager.default.removeItem(at: url) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.names == ["same"])
        #expect(catalog.problems.map(\.file) == [url.appendingPathComponent("2.toml").path])
        #expect(catalog.problems.first?.key == "name")
    }

    @Test("escalation to an unknown agent rejects the escalating agent")
    func unknownEscalation() throws {
        let url = try folder(["a.toml": manifest("a", extra: "escalate_to = \"ghost\"\n"), "b.toml": manifest("b")])
        defer { try? FileManager.default.removeItem(at: url) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.names == ["b"])
        #expect(catalog.problems.first?.key == "escalate_to")
        #expect(catalog.problems.first?.message.contains("ghost") == true)
    }

    @Test("models are found beside the manifest, then on the search path; a miss lists the places searched")
    func modelLocation() throws {
        let models = try folder(["on-path.gguf": "GGUF"])
        let url = try folder(["beside.gguf": "GGUF!", "a.toml": manifest("a", model: "beside.gguf"),
                              "b.toml": manifest("b", model: "on-path.gguf"), "c.toml": manifest("c", model: "missing.gguf"),
                              "d.toml": manifest("d", model: "sub/x.gguf")])
        defer { try? FileManager.default.removeItem(at: url); try? FileManager.default.removeItem(at: models) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: [models.path]))
        #expect(catalog.entry(named: "a")?.model == .found(path: url.appendingPathComponent("beside.gguf").path, bytes: 5))
        #expect(catalog.entry(named: "b")?.model == .found(path: models.appendingPathComponent("on-path.gguf").path, bytes: 4))
        #expect(catalog.entry(named: "c")?.model == .missing(searched: [url.appendingPathComponent("missing.gguf").path,
                                                                        models.appendingPathComponent("missing.gguf").path]))
        #expect(catalog.entry(named: "d")?.model == .missing(searched: [url.appendingPathComponent("sub/x.gguf").path]))
    }

    @Test("a missing folder is one problem, not a crash")
    func missingFolder() {
        let catalog = AgentCatalog.load(directory: "/nonexistent/agents", locator: ModelLocator(searchPath: []))
        #expect(catalog.entries.isEmpty)
        #expect(catalog.problems.count == 1)
    }
}

/// Chat agents: the model's chat template is rendered when the manifest loads, and a model
/// without one, or with one outside the Jinja subset, makes the manifest a problem at `template`.
@Suite("Agent prompts")
struct AgentPromptTests {
    func folder(_ files: [String: String]) throws -> URL { try AgentCatalogTests.folder(files) }

    func chatManifest(_ name: String, model: String, extra: String = "") -> String {
        "name = \"\(name)\"\ntask = \"predict\"\nmodel = \"\(model)\"\ntemplate = \"chat\"\n\(extra)"
    }

    /// A GGUF holding only metadata: a chat template and nothing else.
    func templateOnlyGGUF(_ template: String) -> Data {
        func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func string(_ text: String) -> [UInt8] { u64(UInt64(text.utf8.count)) + Array(text.utf8) }
        let header = Array("GGUF".utf8) + u32(3) + u64(0) + u64(1)
        return Data(header + string("tokenizer.chat_template") + u32(8) + string(template))
    }

    @Test("a chat agent's prefix and suffix come from its model's template")
    func rendered() throws {
        let vocab = try #require(SharedData.file("vocab"), "\(SharedData.missingMessage("vocab"))")
        let url = try folder([
            "plain.toml": chatManifest("plain", model: "ggml-vocab-qwen2.gguf", extra: "prompt = \"Ticket: {text}\\nCategory?\"\n"),
            "system.toml": chatManifest("system", model: "ggml-vocab-qwen2.gguf", extra: "system = \"Sort tickets.\"\n"),
            "raw.toml": "name = \"raw\"\ntask = \"predict\"\nmodel = \"ggml-vocab-qwen2.gguf\"\nprompt = \"<|im_start|>{text}!\"\n",
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: [vocab.path]))
        #expect(catalog.problems.isEmpty, "\(catalog.problems)")
        #expect(catalog.entry(named: "plain")?.prompt == AgentPrompt(
            prefix: "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nTicket: ",
            suffix: "\nCategory?<|im_end|>\n<|im_start|>assistant\n", chat: true))
        #expect(catalog.entry(named: "system")?.prompt == AgentPrompt(
            prefix: "<|im_start|>system\nSort tickets.<|im_end|>\n<|im_start|>user\n", suffix: "<|im_end|>\n<|im_start|>assistant\n", chat: true))
        #expect(catalog.entry(named: "raw")?.prompt == AgentPrompt(prefix: "<|im_start|>", suffix: "!", chat: false))
    }

    @Test("template = \"chat\" on a model without a chat template is a manifest problem")
    func noTemplate() throws {
        let vocab = try #require(SharedData.file("vocab"), "\(SharedData.missingMessage("vocab"))")
        let url = try folder(["a.toml": chatManifest("a", model: "ggml-vocab-llama-bpe.gguf"),
                              "b.toml": chatManifest("b", model: "absent.gguf")])
        defer { try? FileManager.default.removeItem(at: url) }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: [vocab.path]))
        #expect(catalog.names == ["b"], "a chat agent whose model is missing loads as unavailable")
        #expect(catalog.entry(named: "b")?.prompt == nil)
        let problem = try #require(catalog.problems.first)
        #expect(problem.key == "template")
        #expect(problem.message.contains("ggml-vocab-llama-bpe.gguf has none"), "\(problem)")
    }

    @Test("a template outside the subset, or one that refuses the turns, is named in the problem")
    func unusableTemplate() throws {
        let url = try folder([
            "macro.toml": chatManifest("macro", model: "macro.gguf"),
            "nosystem.toml": chatManifest("nosystem", model: "nosystem.gguf", extra: "system = \"Be brief.\"\n"),
        ])
        defer { try? FileManager.default.removeItem(at: url) }
        try templateOnlyGGUF("{% macro turn(m) %}{{ m.content }}{% endmacro %}{% for m in messages %}{{ turn(m) }}{% endfor %}")
            .write(to: url.appendingPathComponent("macro.gguf"))
        try templateOnlyGGUF("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}")
            .write(to: url.appendingPathComponent("nosystem.gguf"))
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.names.isEmpty)
        let messages = catalog.problems.sorted { $0.file < $1.file }.map(\.message)
        #expect(messages.count == 2)
        #expect(messages.first?.contains("unsupported construct: {% macro %}") == true, "\(messages)")
        #expect(messages.last?.contains("System role not supported") == true, "\(messages)")
    }
}
