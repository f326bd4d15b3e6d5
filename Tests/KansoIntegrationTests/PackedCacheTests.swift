import Foundation
@testable import KansoEngine
import KansoTestSupport
import KansoWire
import Testing

/// The packed-weight cache through the pool: the first load of a model packs in memory and its
/// worker writes `<name>-<hash>.kpack` (and the tokenizer's tables, `.ktok`) to the daemon's cache
/// folder (finished before the worker exits); the next worker maps that file; a damaged file is rebuilt, an unwritable folder only
/// costs the speed-up, and --no-packed-cache writes nothing.
@Suite("Packed-weight cache through kansod",
       .enabled(if: WeightMatrix.packedFormsAreBuilt, "the kernels loads use here pack no matrix (they do on CPUs with AVX2)"))
struct PackedCacheTests {
    static let model = SharedData.repositoryRoot.appendingPathComponent("Tests/KansoEngineTests/Fixtures/models/llama-q8_0.gguf").path

    static func harness(_ extra: [String] = []) throws -> DaemonHarness {
        let harness = try DaemonHarness(copyShippedAgents: false)
        try harness.writeAgent("tiny.toml", """
            name = "tiny"
            task = "predict"
            model = "\(model)"
            prompt = "{text}"
            context_length = 64
            keep_alive = "10m"
            [sampling]
            temperature = 0
            """)
        try harness.start(arguments: ["--threads", "1"] + extra)
        return harness
    }

    /// Loads the agent's model (load number `count` of this daemon) and generates; returns the
    /// reason of its move to ready in the daemon's log ("loaded in … ms (…); weights …"), its
    /// worker's pid and the text.
    static func loadAndGenerate(_ harness: DaemonHarness, count: Int) throws -> (reason: String, pid: Int, text: String) {
        let client = try harness.client()
        _ = try client.load(agent: "tiny")
        let pid = try #require(try client.status().models.first { $0.path == Self.model }?.pid)
        let text = try client.continuation(agent: "tiny", text: "a b c", maxTokens: 8).text ?? ""
        let deadline = Date().addingTimeInterval(5)
        var ready: [String] = []
        repeat {
            ready = harness.log.split(separator: "\n").filter { $0.contains("loading → ready") }.map(String.init)
        } while ready.count < count && Date() < deadline && usleep(10_000) == 0
        return (ready.count == count ? ready.last ?? "" : "load \(count) not in the log: \(ready)", pid, text)
    }

    /// Unloads and waits until the worker has exited (the model is absent again).
    static func unload(_ harness: DaemonHarness) throws {
        let client = try harness.client()
        #expect(try client.unload(agent: "tiny"))
        let deadline = Date().addingTimeInterval(10)
        while try client.status().models.first?.state != "absent", Date() < deadline { usleep(10_000) }
        #expect(try client.status().models.first?.state == "absent")
    }

    static func cacheFiles(_ harness: DaemonHarness) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: harness.cacheDirectory)) ?? []).sorted()
    }

    @Test("the first load writes the cache file, the next worker maps it and answers the same")
    func secondLoadMapsTheCache() throws {
        let harness = try Self.harness()
        let first = try Self.loadAndGenerate(harness, count: 1)
        #expect(Self.packedAndWritten(first.reason, to: "\(harness.cacheDirectory)/llama-q8_0-"), "\(first.reason)")
        try Self.unload(harness)

        let files = Self.cacheFiles(harness).filter { $0.hasSuffix(".kpack") }
        #expect(files.count == 1 && files[0].hasPrefix("llama-q8_0-"), "\(Self.cacheFiles(harness))")
        let tables = Self.cacheFiles(harness).filter { $0.hasSuffix(".ktok") }
        #expect(tables.count == 1 && tables[0].hasPrefix("llama-q8_0-"), "the tokenizer's tables beside it: \(Self.cacheFiles(harness))")
        let folder = try FileManager.default.attributesOfItem(atPath: harness.cacheDirectory)
        #expect((folder[.posixPermissions] as? Int) == 0o700, "the cache folder is the daemon's alone")
        let path = harness.cacheDirectory + "/" + (files.first ?? "")

        let second = try Self.loadAndGenerate(harness, count: 2)
        #expect(second.reason.contains("weights mapped from \(path)"), "\(second.reason)")
        #expect(second.reason.contains("tokenizer read from \(harness.cacheDirectory)/\(tables.first ?? "")"), "\(second.reason)")
        // (read to the end: a file of /proc shows a size of 0, and one read returns a page or so)
        let handle = try #require(FileHandle(forReadingAtPath: "/proc/\(second.pid)/maps"))
        let maps = String(decoding: try handle.readToEnd() ?? Data(), as: UTF8.self)
        #expect(maps.contains(path), "the worker maps the cache file")
        #expect(second.text == first.text, "the same greedy text from the cached packed weights")
    }

    /// Whether a load's reason says the weights were packed at load and the cache file at `path`
    /// (or a path beginning so) is being written, or already was: the background write of a small
    /// model can finish before the worker reports the model ready.
    static func packedAndWritten(_ reason: String, to path: String) -> Bool {
        reason.contains("weights packed at load, writing \(path)") || reason.contains("weights packed at load, written to \(path)")
    }

    @Test("a damaged cache file is packed again and rewritten, and the request is answered")
    func damagedFileIsRebuilt() throws {
        let harness = try Self.harness()
        let first = try Self.loadAndGenerate(harness, count: 1)
        try Self.unload(harness)
        let path = harness.cacheDirectory + "/" + (try #require(Self.cacheFiles(harness).first { $0.hasSuffix(".kpack") }))
        // Overwrite the header's record of its source (inode and size, bytes 40..<56): the file no
        // longer matches the model, nor its checksum, and must not be trusted.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: 40)
        try handle.write(contentsOf: Data(repeating: 0xA5, count: 16))
        try handle.close()

        let rebuilt = try Self.loadAndGenerate(harness, count: 2)
        #expect(Self.packedAndWritten(rebuilt.reason, to: path), "\(rebuilt.reason)")
        #expect(rebuilt.text == first.text)
        try Self.unload(harness)
        let mapped = try Self.loadAndGenerate(harness, count: 3)
        #expect(mapped.reason.contains("weights mapped from \(path)"), "the rewritten file serves: \(mapped.reason)")
    }

    @Test("a cache folder that cannot be made costs only the speed-up: loads pack in memory and answer")
    func unwritableFolder() throws {
        let blocker = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-not-a-folder-\(UUID().uuidString.prefix(8))")
        try Data("a file".utf8).write(to: blocker)
        defer { try? FileManager.default.removeItem(at: blocker) }
        let harness = try Self.harness(["--cache-directory", blocker.path + "/cache"])
        let first = try Self.loadAndGenerate(harness, count: 1)
        try Self.unload(harness)
        let again = try Self.loadAndGenerate(harness, count: 2)
        #expect(again.reason.contains("weights packed at load"), "\(again.reason)")
        #expect(again.text == first.text)
        // The write fails at once; the load's reply names the error when that came first, else
        // the worker logs it.
        let why = "packed-weight cache \(blocker.path): use as a folder failed: Not a directory"
        #expect(again.reason.contains(why) || harness.log.contains("not cached: \(why)"), "\(harness.log)")
    }

    @Test("--no-packed-cache packs in memory and writes nothing")
    func disabled() throws {
        let harness = try Self.harness(["--no-packed-cache"])
        let model = try Self.loadAndGenerate(harness, count: 1)
        #expect(model.reason.hasSuffix("weights packed at load; tokenizer built at load"), "\(model.reason)")
        try Self.unload(harness)
        #expect(!FileManager.default.fileExists(atPath: harness.cacheDirectory))
    }
}
