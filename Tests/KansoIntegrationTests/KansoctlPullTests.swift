import Foundation
import KansoTestSupport
import Testing

/// `kansoctl pull` against a local HTTP server the test starts (no network): the model arrives
/// whole and checked, a dropped connection or an earlier partial download is resumed with a Range
/// request, and each failure (404, wrong checksum, not a GGUF, an unsupported model, no space, no
/// permission for the system folder) is one clear message with no file left behind.
@Suite("kansoctl pull", .serialized,
       .enabled(if: SharedData.stories260K != nil, Comment(rawValue: SharedData.missingMessage("models/stories260K.gguf"))))
struct KansoctlPullTests {
    let server: LocalHTTPServer
    let folder: URL
    let model: [UInt8]

    init() throws {
        model = Array(try Data(contentsOf: try #require(SharedData.stories260K)))
        server = try LocalHTTPServer()
        server.files["/stories260K.gguf"] = .init(body: model)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-pull-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    func pull(_ arguments: [String], environment extra: [String: String] = [:]) throws -> (status: Int32, output: String, error: String) {
        var environment = ProcessInfo.processInfo.environment
        for (key, value) in extra { environment[key] = value }
        return try DaemonHarness.run(DaemonHarness.kansoctl, ["pull"] + arguments + ["--model-dir", folder.path], environment: environment)
    }

    var files: [String] { ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).sorted() }

    func installed(_ name: String) -> [UInt8]? {
        FileManager.default.contents(atPath: folder.appendingPathComponent(name).path).map(Array.init)
    }

    static func sha256(_ bytes: [UInt8]) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-sha-\(UUID().uuidString.prefix(8))")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return String(try DaemonHarness.run(URL(fileURLWithPath: "/usr/bin/sha256sum"), [file.path]).output.prefix(64))
    }

    @Test("a model arrives whole, checked, with its origin beside it; a dropped connection is resumed")
    func pullsAndResumesAfterDrop() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        server.files["/stories260K.gguf"]?.dropAfter = 400_000
        let checksum = try Self.sha256(model)
        let result = try pull(["\(server.baseURL)/stories260K.gguf", "--sha256", checksum.uppercased()])
        #expect(result.status == 0, "\(result.error)")
        #expect(result.output.contains("installed \(folder.path)/stories260K.gguf"))
        #expect(installed("stories260K.gguf") == model)
        #expect(files == ["stories260K.gguf", "stories260K.gguf.origin.json"], "no partial file left")
        let ranges = server.requests.map(\.range)
        #expect(ranges.first == .some(nil))
        #expect(ranges.dropFirst().contains("bytes=400000-"), "\(ranges)")
        let origin = try JSONSerialization.jsonObject(with: Data(installed("stories260K.gguf.origin.json") ?? [])) as? [String: String]
        #expect(origin?["sha256"] == checksum)
        #expect(origin?["source"] == "\(server.baseURL)/stories260K.gguf")
    }

    @Test("a partial file from an earlier run is resumed where it stopped")
    func resumesEarlierPartial() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data(model[..<300_000]).write(to: folder.appendingPathComponent(".stories260K.gguf.partial"))
        let result = try pull(["\(server.baseURL)/stories260K.gguf", "--sha256", try Self.sha256(model)])
        #expect(result.status == 0, "\(result.error)")
        #expect(server.requests.map(\.range) == ["bytes=300000-"])
        #expect(installed("stories260K.gguf") == model)
    }

    @Test("REPO/FILE is fetched from Hugging Face's resolve URL, redirects followed, the token kept to its host")
    func huggingFaceForm() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        server.redirects["/owner/repo/resolve/main/stories260K.gguf"] = "\(server.baseURL)/stories260K.gguf"
        let result = try pull(["owner/repo/stories260K.gguf"], environment: ["HF_ENDPOINT": server.baseURL, "HF_TOKEN": "secret"])
        #expect(result.status == 0, "\(result.error)")
        #expect(server.requests.map(\.path) == ["/owner/repo/resolve/main/stories260K.gguf", "/stories260K.gguf"])
        #expect(server.requests.first?.authorization == "Bearer secret")
        #expect(installed("stories260K.gguf") == model)
    }

    @Test("each failure is one clear message and leaves no file", arguments: [
        ("/missing.gguf", "not found (HTTP 404)"),
        ("/page.gguf", "is not a GGUF model file"),
        ("/phi3.gguf", "its architecture phi3 is not supported"),
        ("/iq2.gguf", "its tensors use IQ2_XXS, which Kanso cannot compute with"),
        ("/huge.gguf", "not enough space in"),
        ("/notes.txt", "notes.txt is not a .gguf file name"),
    ])
    func failures(path: String, message: String) throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        server.files["/page.gguf"] = .init(body: Array("<!DOCTYPE html><title>Sign in</title>".utf8))
        server.files["/iq2.gguf"] = .init(body: Self.gguf(architecture: "llama", tensorType: 16, tensorBytes: 66))
        server.files["/phi3.gguf"] = .init(body: Self.gguf(architecture: "phi3", tensorType: 0, tensorBytes: 1024))
        server.files["/huge.gguf"] = .init(body: [], claimedLength: 1 << 60)
        let result = try pull([server.baseURL + path])
        #expect(result.status != 0)
        #expect(result.error.contains(message), "\(result.error)")
        #expect(files.isEmpty, "\(files)")
    }

    @Test("a wrong checksum deletes the download")
    func wrongChecksum() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let result = try pull(["\(server.baseURL)/stories260K.gguf", "--sha256", String(repeating: "0", count: 64)])
        #expect(result.status == 1)
        #expect(result.error.contains("checksum mismatch: expected SHA-256 \(String(repeating: "0", count: 64))"), "\(result.error)")
        #expect(result.error.contains(try Self.sha256(model)))
        #expect(files.isEmpty)
    }

    @Test("the system model folder is for root and the admin group only")
    func systemFolderNeedsAdmin() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        var command = [DaemonHarness.kansoctl.path]
        if getuid() == 0 {
            // As root, run it as nobody without supplementary groups.
            let setpriv = try #require(["/usr/bin/setpriv", "/bin/setpriv"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                       "setpriv (util-linux) is needed to drop root")
            command = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups"] + command
        }
        let result = try DaemonHarness.run(URL(fileURLWithPath: command[0]), Array(command.dropFirst()) + [
            "pull", "\(server.baseURL)/stories260K.gguf", "--model-dir", "/var/lib/kanso/models", "--admin-group", "kanso-test-nonexistent"])
        #expect(result.status == 77)
        #expect(result.error.contains("writing into the system model folder /var/lib/kanso/models needs root or the kanso-test-nonexistent group"),
                "\(result.error)")
        #expect(server.requests.isEmpty, "refused before downloading")
    }

    @Test("on a terminal, a progress bar shows bytes, rate and time left")
    func progressBar() throws {
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = try #require(["/usr/bin/script", "/bin/script"].first { FileManager.default.isExecutableFile(atPath: $0) },
                                  "script (util-linux) is needed for a terminal")
        let command = "\(DaemonHarness.kansoctl.path) pull \(server.baseURL)/stories260K.gguf --model-dir \(folder.path)"
        let result = try DaemonHarness.run(URL(fileURLWithPath: script), ["-qec", command, "/dev/null"])
        #expect(result.status == 0, "\(result.output) \(result.error)")
        #expect(result.output.contains("[########################]  1.1 MiB / 1.1 MiB"), "\(result.output)")
    }

    /// A GGUF with `general.architecture` and one tensor of `tensorType` (ggml's number).
    static func gguf(architecture: String, tensorType: UInt32, tensorBytes: Int) -> [UInt8] {
        func u32(_ value: UInt32) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func u64(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian, Array.init) }
        func string(_ text: String) -> [UInt8] { u64(UInt64(text.utf8.count)) + Array(text.utf8) }
        var bytes = Array("GGUF".utf8) + u32(3) + u64(1) + u64(1)
        bytes += string("general.architecture") + u32(8) + string(architecture)
        let elements: UInt64 = tensorType == 0 ? UInt64(tensorBytes / 4) : 256
        bytes += string("weight") + u32(1) + u64(elements) + u32(tensorType) + u64(0)
        while bytes.count % 32 != 0 { bytes.append(0) }
        return bytes + [UInt8](repeating: 0, count: tensorBytes)
    }
}
