import Foundation
import KansoPool
import Testing

/// Hostile manifests: too large, fields too long, control characters in what replies carry,
/// too many of them, and files that are not files (a FIFO would block a plain open forever).
@Suite("Agent manifest limits")
struct ManifestLimitTests {
    let reader = ManifestReader()

    func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-limits-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    func manifest(_ name: String, extra: String = "") -> String {
        "name = \"\(name)\"\ntask = \"classify\"\nmodel = \"m.gguf\"\nprompt = \"{text}\"\nlabels = [\"x\", \"y\"]\n\(extra)"
    }

    func problem(_ text: String) -> ManifestProblem? {
        do {
            _ = try reader.parse(text, path: "/a/x.toml")
            return nil
        } catch {
            return error
        }
    }

    @Test("fields over their limits are refused, naming the key and the sizes", arguments: [
        ("description = \"\(String(repeating: "d", count: 1025))\"", "description", "1025 bytes, more than the limit of 1024"),
        ("escalate_to = \"\(String(repeating: "e", count: 65))\"", "escalate_to", "more than the limit of 64"),
        ("stop = [\(Array(repeating: "\"s\"", count: 17).joined(separator: ", "))]", "stop", "17 items, more than the limit of 16"),
        ("stop = [\"\(String(repeating: "s", count: 65))\"]", "stop", "item 1: 65 bytes"),
    ])
    func fieldLimits(extra: String, key: String, expected: String) throws {
        let found = try #require(problem(manifest("a", extra: extra)))
        #expect(found.key == key)
        #expect(found.message.contains(expected), "\(found)")
    }

    @Test("too many labels, a label too long, a control character in a label")
    func labelLimits() throws {
        let many = (0..<129).map { "\"l\($0)\"" }.joined(separator: ", ")
        let text = "name = \"a\"\ntask = \"classify\"\nmodel = \"m\"\nprompt = \"{text}\"\n"
        #expect(problem(text + "labels = [\(many)]")?.message.contains("129 items, more than the limit of 128") == true)
        #expect(problem(text + "labels = [\"\(String(repeating: "l", count: 129))\"]")?.message.contains("item 1: 129 bytes") == true)
        let control = try #require(problem(text + "labels = [\"ok\", \"bell\\u0007\"]"))
        #expect(control.message.contains("item 2: contains the control character U+7"), "\(control)")
        #expect(problem(text + "labels = [\"two\\nlines\", \"tab\\there\"]") == nil, "newline and tab are allowed")
    }

    @Test("a problem quoting a huge value stays short")
    func problemsStayShort() throws {
        let huge = String(repeating: "n", count: 100_000)
        let found = try #require(problem("name = \"\(huge)\"\ntask = \"predict\"\nmodel = \"m\"\nprompt = \"{text}\"\n"))
        #expect(found.message.count <= 512)
        let unknownKey = try #require(problem(manifest("a", extra: "\(huge) = 1")))
        #expect((unknownKey.key?.count ?? 0) <= 128)
    }

    @Test("a manifest file over 256 KiB is refused without being parsed")
    func largeFileRefused() throws {
        let url = try folder()
        defer { try? FileManager.default.removeItem(at: url) }
        let path = url.appendingPathComponent("big.toml").path
        try manifest("big", extra: "# \(String(repeating: "x", count: 300 << 10))\n").write(toFile: path, atomically: true, encoding: .utf8)
        #expect(throws: ManifestProblem.self) { try reader.read(path: path) }
        do {
            _ = try reader.read(path: path)
        } catch {
            #expect(error.message.contains("more than the limit of 262144"), "\(error)")
        }
    }

    @Test("a FIFO and a directory named *.toml, and a FIFO as schema_file, are reported, never read")
    func notRegularFiles() throws {
        let url = try folder()
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(mkfifo(url.appendingPathComponent("fifo.toml").path, 0o644) == 0)
        try FileManager.default.createDirectory(at: url.appendingPathComponent("dir.toml"), withIntermediateDirectories: false)
        try manifest("good").write(to: url.appendingPathComponent("good.toml"), atomically: true, encoding: .utf8)
        // A schema_file that is a FIFO is refused too.
        #expect(mkfifo(url.appendingPathComponent("schema.json").path, 0o644) == 0)
        let extract = "name = \"ex\"\ntask = \"extract\"\nmodel = \"m\"\nprompt = \"{text}\"\nschema_file = \"schema.json\"\n"
        try extract.write(to: url.appendingPathComponent("ex.toml"), atomically: true, encoding: .utf8)

        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.names == ["good"])
        let messages = Dictionary(uniqueKeysWithValues: catalog.problems.map { (URL(fileURLWithPath: $0.file).lastPathComponent, $0.message) })
        #expect(messages["fifo.toml"]?.contains("it is a FIFO, not a regular file") == true, "\(messages)")
        #expect(messages["dir.toml"]?.contains("it is a directory") == true, "\(messages)")
        #expect(messages["ex.toml"]?.contains("it is a FIFO") == true, "\(messages)")
    }

    @Test("a folder with more manifests than the limit reads the first ones and reports the rest once")
    func tooManyManifests() throws {
        let url = try folder()
        defer { try? FileManager.default.removeItem(at: url) }
        let count = ManifestLimits.manifestsPerFolder + 3
        for index in 0..<count {
            let name = String(format: "a%04d", index)
            try manifest(name).write(to: url.appendingPathComponent("\(name).toml"), atomically: false, encoding: .utf8)
        }
        let catalog = AgentCatalog.load(directory: url.path, locator: ModelLocator(searchPath: []))
        #expect(catalog.entries.count == ManifestLimits.manifestsPerFolder)
        #expect(catalog.problems.count == 1)
        #expect(catalog.problems.first?.message.contains("3 manifests not read, from a0256.toml on") == true, "\(catalog.problems)")
    }
}
