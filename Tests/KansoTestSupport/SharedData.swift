import Foundation

/// The one place tests find the project's shared data (`../shared` beside the checkout):
/// `models/` (stories260K) and `vocab/` (tokenizer vocabularies with reference tokenizations).
/// Tests that need it call `SharedData.require…` and skip with a clear message when it is absent.
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
