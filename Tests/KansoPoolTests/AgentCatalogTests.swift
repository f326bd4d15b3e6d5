import Foundation
import KansoPool
import Testing

@Suite("Agent catalog")
struct AgentCatalogTests {
    /// A temporary folder with the given files.
    func folder(_ files: [String: String]) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-catalog-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        for (name, text) in files { try text.write(to: url.appendingPathComponent(name), atomically: true, encoding: .utf8) }
        return url
    }

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
