import ArgumentParser
import Foundation
import KansoGGUF
import KansoWire

/// `kansoctl pull URL|REPO/FILE`: downloads a GGUF model into the model folder. The download goes
/// to a hidden partial file beside its destination (so a second run resumes it), is checked
/// (the SHA-256 when given; a GGUF whose architecture and tensor types the engine supports), and
/// only then renamed into place, so the daemon never sees half a file. The CLI downloads, not the
/// daemon: the shipped unit gives the daemon no network.
struct Pull: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Download a GGUF model into the model folder.",
        discussion: """
        SOURCE is an https:// URL, or REPO/FILE on Hugging Face (Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q8_0.gguf \
        is https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/main/qwen2.5-0.5b-instruct-q8_0.gguf; \
        $HF_ENDPOINT replaces https://huggingface.co, $HF_TOKEN is sent to it for gated models). The file goes to \
        /var/lib/kanso/models for root and members of the admin group, else to ~/.local/share/kanso/models.
        """)

    @Argument(help: "An https:// URL of a .gguf file, or REPO/FILE on Hugging Face.") var source: String
    @Option(name: .long, help: "The file's expected SHA-256 (64 hexadecimal digits); a mismatch deletes the download.")
    var sha256: String?
    @Option(name: .long, help: ArgumentHelp("The folder to put the model in (default: see above).", valueName: "dir"))
    var modelDir: String?
    @Option(name: .long, help: ArgumentHelp("The admin group that may write the system model folder (default: $KANSO_ADMIN_GROUP, else kanso-admin).", valueName: "group"))
    var adminGroup: String?
    @Flag(name: .long, help: "Replace a model file of the same name.") var force = false

    func run() throws {
        try reportingFailures {
            let (url, fileName) = try Self.resolve(source)
            let expected = try sha256.map(Self.checksum)
            let folder = try destinationFolder()
            let destination = folder + "/" + fileName
            if FileManager.default.fileExists(atPath: destination), !force {
                throw CommandFailure(message: "\(destination) is already there; --force replaces it", code: 1)
            }
            let partial = folder + "/." + fileName + ".partial"
            if url.scheme == "http" {
                FileHandle.standardError.write(Data("kansoctl: warning: \(url) is plain HTTP; nothing protects the file in transit (pass --sha256)\n".utf8))
            }
            print("downloading \(url)\n         to \(destination)")
            let download = ModelDownload(url: url, partialPath: partial, authorization: Self.authorization(for: url))
            let bar = ProgressBar()
            download.onProgress = { bar.update(bytes: $0, total: $1) }
            let result: (bytes: Int64, sha256: String)
            do {
                result = try download.run()
                bar.finish()
            } catch let failure as ModelDownload.Failure {
                bar.finish()
                let kept = (try? FileManager.default.attributesOfItem(atPath: partial)[.size] as? Int) ?? 0
                if kept == 0 { try? FileManager.default.removeItem(atPath: partial) }
                let resumable = failure.isTransient && kept > 0
                throw CommandFailure(message: failure.message + (resumable ? "\n(the same command resumes the download)" : ""), code: 1)
            }
            try verify(partial: partial, bytes: result.bytes, sha256: result.sha256, expected: expected)
            try install(partial: partial, destination: destination, url: url, sha256: result.sha256)
        }
    }

    /// The URL to fetch and the file's name, from an URL or REPO/FILE.
    static func resolve(_ source: String) throws -> (URL, String) {
        let url: URL?
        if source.hasPrefix("https://") || source.hasPrefix("http://") {
            url = URL(string: source)
        } else {
            let parts = source.split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count >= 3, parts.allSatisfy({ !$0.isEmpty }) else {
                throw CommandFailure(message: "expected an https:// URL or REPO/FILE (OWNER/NAME/FILE.gguf), got \"\(source)\"", code: 64)
            }
            let endpoint = ProcessInfo.processInfo.environment["HF_ENDPOINT"].flatMap { $0.isEmpty ? nil : $0 } ?? "https://huggingface.co"
            let file = parts[2...].joined(separator: "/")
            url = URL(string: "\(endpoint)/\(parts[0])/\(parts[1])/resolve/main/\(file)")
        }
        guard let url, let name = url.path.split(separator: "/").last.map(String.init), url.host != nil else {
            throw CommandFailure(message: "not a URL kansoctl can fetch: \(source)", code: 64)
        }
        guard name.hasSuffix(".gguf"), !name.hasPrefix(".") else {
            throw CommandFailure(message: "\(name) is not a .gguf file name; Kanso runs GGUF models", code: 64)
        }
        return (url, name)
    }

    static func checksum(_ text: String) throws -> String {
        let lowered = text.lowercased()
        guard lowered.count == 64, lowered.allSatisfy({ $0.isHexDigit }) else {
            throw CommandFailure(message: "--sha256 expects 64 hexadecimal digits, got \"\(text)\"", code: 64)
        }
        return lowered
    }

    /// `Bearer $HF_TOKEN` for Hugging Face's host (or $HF_ENDPOINT's), nothing for others.
    static func authorization(for url: URL) -> String? {
        let environment = ProcessInfo.processInfo.environment
        guard let token = environment["HF_TOKEN"], !token.isEmpty else { return nil }
        let endpointHost = environment["HF_ENDPOINT"].flatMap { URL(string: $0)?.host } ?? "huggingface.co"
        return url.host == endpointHost ? "Bearer \(token)" : nil
    }

    /// The folder to write into, created if needed. The system folder is for root and the admin
    /// group only; anyone else gets a clear refusal before a byte is downloaded.
    private func destinationFolder() throws -> String {
        let environment = ProcessInfo.processInfo.environment
        let group = adminGroup ?? environment["KANSO_ADMIN_GROUP"].flatMap { $0.isEmpty ? nil : $0 } ?? "kanso-admin"
        let isAdmin = getuid() == 0 || Self.isMember(of: group)
        let folder = modelDir ?? environment["KANSO_MODEL_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (isAdmin ? ModelFolders.system : ModelFolders.stateDirectory() + "/models")
        let isSystem = URL(fileURLWithPath: folder).standardizedFileURL.path.hasPrefix(ModelFolders.system)
        if isSystem, !isAdmin {
            throw CommandFailure(message: "writing into the system model folder \(folder) needs root or the \(group) group "
                                 + "(run: sudo kansoctl pull ...; or pass --model-dir DIR for a folder of your own)", code: 77)
        }
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw CommandFailure(message: "cannot create the model folder \(folder): \(error.localizedDescription)", code: 73)
        }
        guard access(folder, W_OK) == 0 else {
            throw CommandFailure(message: "cannot write into \(folder): \(String(cString: strerror(errno)))"
                                 + (isSystem ? " (the folder must be writable by the \(group) group)" : ""), code: 77)
        }
        return folder
    }

    static func isMember(of group: String) -> Bool {
        guard let entry = getgrnam(group) else { return false }
        let gid = entry.pointee.gr_gid
        if getgid() == gid || getegid() == gid { return true }
        let count = getgroups(0, nil)
        guard count > 0 else { return false }
        var groups = [gid_t](repeating: 0, count: Int(count))
        return getgroups(count, &groups) > 0 && groups.contains(gid)
    }

    /// The checksum when one was given, then the header: a GGUF the engine can load. A file that
    /// fails either is deleted (resuming it could only repeat the failure).
    private func verify(partial: String, bytes: Int64, sha256 actual: String, expected: String?) throws {
        func reject(_ message: String) -> CommandFailure {
            try? FileManager.default.removeItem(atPath: partial)
            return CommandFailure(message: message + "; the download was deleted", code: 1)
        }
        if let expected, expected != actual {
            throw reject("checksum mismatch: expected SHA-256 \(expected), the file has \(actual)")
        }
        let file: GGUFFile
        do {
            file = try GGUFFile(path: partial)
        } catch {
            throw reject("the download (\(Format.bytes(Int(bytes)))) is not a GGUF model file: \(error)")
        }
        if let problem = SupportedModels.problem(with: file) {
            throw reject("Kanso cannot run this model: \(problem)")
        }
    }

    /// Moves the checked file into place (a rename within the folder, so atomic) and writes its
    /// NAME.origin.json.
    private func install(partial: String, destination: String, url: URL, sha256: String) throws {
        chmod(partial, 0o644)
        guard rename(partial, destination) == 0 else {
            throw CommandFailure(message: "cannot move the download to \(destination): \(String(cString: strerror(errno)))", code: 73)
        }
        let info = ModelFileInfo(path: destination)
        try? ModelFileInfo.writeOrigin(ModelFileInfo.Origin(source: url.absoluteString, license: info.license, sha256: sha256),
                                       of: destination)
        print("installed \(destination): \(Format.bytes(info.bytes)), \(info.architecture ?? "?")"
              + (info.name.map { " (\($0))" } ?? "") + ", licence \(info.license ?? "not stated in the file"), SHA-256 \(sha256)")
    }
}
