import Foundation
import KansoGGUF
import KansoPool
import KansoTestSupport
import KansoWire
import Testing

@Suite("Agent manifests")
struct ManifestReaderTests {
    let reader = ManifestReader()
    let base = """
    name = "triage"
    task = "classify"
    model = "m.gguf"
    prompt = "Ticket: {text}\\nCategory:"
    labels = ["a", "b"]

    """

    @Test("every shipped example manifest loads")
    func shippedExamples() throws {
        let folder = SharedData.repositoryRoot.appendingPathComponent("agents")
        let catalog = AgentCatalog.load(directory: folder.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.problems.isEmpty, "\(catalog.problems)")
        #expect(Set(catalog.entries.map(\.manifest.task)) == Set(AgentManifest.Task.allCases), "one example per task")
        let extract = try #require(catalog.entries.first { $0.manifest.task == .extract })
        #expect(extract.manifest.schema?.objectValue?["required"] == .array([.string("name")]))
    }

    @Test("a full manifest reads into typed fields")
    func fullManifest() throws {
        let text = base + """
        priority = "interactive"
        keep_alive = "1h30m"
        escalate_below = 0.6
        escalate_to = "triage-large"
        context_length = 512
        max_input_tokens = 300
        truncate = true
        kv_cache = "q8_0"

        [sampling]
        temperature = 0
        top_k = 40
        seed = 7
        """
        let manifest = try reader.parse(text, path: "/etc/kanso/agents/triage.toml")
        #expect(manifest.name == "triage")
        #expect(manifest.task == .classify)
        #expect(manifest.labels == ["a", "b"])
        #expect(manifest.priority == .interactive)
        #expect(manifest.keepAlive == .seconds(5400))
        #expect(manifest.escalateBelow == 0.6)
        #expect(manifest.escalateTo == "triage-large")
        #expect(manifest.contextLength == 512)
        #expect(manifest.maxInputTokens == 300)
        #expect(manifest.truncate)
        #expect(manifest.kvCache == .q8_0)
        #expect(manifest.sampling.temperature == 0)
        #expect(manifest.sampling.topK == 40)
        #expect(manifest.sampling.seed == 7)
        #expect(manifest.directory == "/etc/kanso/agents")
    }

    @Test("each mistake names the file, the key and what was expected", arguments: [
        ("name = \"x\"\n", "task", "missing; expected one of predict, classify, extract"),
        ("name = 3\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\n", "name", "expected a string, got integer"),
        ("name = \"has space\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\n", "name", "expected a name of letters"),
        ("name = \"x\"\ntask = \"summarize\"\nmodel = \"m\"\nprompt = \"{text}\"\n", "task", "got \"summarize\""),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"no slot\"\n", "prompt", "containing {text}"),
        ("name = \"x\"\ntask = \"classify\"\nmodel = \"m\"\nprompt = \"{text}\"\n", "labels", "a classify agent needs labels"),
        ("name = \"x\"\ntask = \"classify\"\nmodel = \"m\"\nprompt = \"{text}\"\nlabels = [\"a\", \"a\"]\n", "labels", "\"a\" appears more than once"),
        ("name = \"x\"\ntask = \"classify\"\nmodel = \"m\"\nprompt = \"{text}\"\nlabels = [\"a\", 2]\n", "labels", "item 2 is integer"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nlables = [\"a\"]\n", "lables", "unknown key"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nkeep_alive = \"soon\"\n", "keep_alive", "\"forever\""),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\npriority = \"urgent\"\n", "priority", "got \"urgent\""),
        ("name = \"x\"\ntask = \"classify\"\nmodel = \"m\"\nprompt = \"{text}\"\nlabels = [\"a\"]\nescalate_below = 1.5\n", "escalate_below", "between 0 and 1"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nescalate_to = \"y\"\n", "escalate_to", "only classify agents escalate"),
        ("name = \"x\"\ntask = \"extract\"\nmodel = \"m\"\nprompt = \"{text}\"\n", "schema", "an extract agent needs a JSON Schema"),
        ("name = \"x\"\ntask = \"extract\"\nmodel = \"m\"\nprompt = \"{text}\"\nschema = { type = \"array\" }\n", "schema", "must describe an object"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nmax_tokens = 0\n", "max_tokens", "expected a positive integer, got 0"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nmax_input_tokens = -5\n", "max_input_tokens", "expected a positive integer, got -5"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nkv_cache = \"q4_0\"\n", "kv_cache", "expected one of f16, q8_0, f32, got \"q4_0\""),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\n[sampling]\ntop_p = 2\n", "sampling.top_p", "(0, 1]"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\n[sampling]\ntemp = 1\n", "sampling.temp", "unknown key"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\ntemplate = \"jinja\"\n", "template", "got \"jinja\""),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\nsystem = \"Be brief.\"\n", "system", "needs template = \"chat\""),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\n", "prompt", "missing; expected a template containing {text}"),
        ("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\ntemplate = \"chat\"\nprompt = \"no slot\"\n", "prompt", "containing {text}"),
    ])
    func rejected(text: String, key: String, expected: String) {
        do {
            _ = try reader.parse(text, path: "/a/x.toml")
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.file == "/a/x.toml")
            #expect(error.key == key, "\(error)")
            #expect(error.message.contains(expected), "\(error)")
        }
    }

    @Test("a chat agent's prompt is its user turn, the request's text alone unless given")
    func chatManifest() throws {
        let chat = try reader.parse("name = \"x\"\ntask = \"predict\"\nmodel = \"m\"\ntemplate = \"chat\"\nsystem = \"Be brief.\"\n", path: "/a/x.toml")
        #expect(chat.template == .chat)
        #expect(chat.system == "Be brief.")
        #expect(chat.prompt == "{text}")
        let raw = try reader.parse(base, path: "/a/x.toml")
        #expect(raw.template == .raw)
        #expect(raw.system == nil)
    }

    @Test("invalid TOML is reported with its line")
    func invalidTOML() {
        do {
            _ = try reader.parse("name = \"x\"\ntask = \n", path: "/a/bad.toml")
            Issue.record("accepted")
        } catch {
            #expect(error.key == nil)
            #expect(error.message.contains("not valid TOML at line 2"), "\(error)")
        }
    }

    @Test("keep-alive forms", arguments: [
        ("0", KeepAlive.unloadAfterRequest), ("forever", .forever), ("90", .seconds(90)), ("90s", .seconds(90)),
        ("5m", .seconds(300)), ("1h30m", .seconds(5400)), ("250ms", .seconds(0.25)),
    ])
    func keepAlive(text: String, expected: KeepAlive) {
        #expect(KeepAlive(parsing: text) == expected)
    }

    @Test("keep-alive rejects", arguments: ["", "m", "5x", "-3", "5m3"])
    func keepAliveRejects(text: String) {
        #expect(KeepAlive(parsing: text) == nil)
    }
}
