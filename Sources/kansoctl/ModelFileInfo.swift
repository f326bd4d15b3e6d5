import Foundation
import KansoGGUF

/// What `kansoctl models` shows of a model file: its size, its architecture, and where it came
/// from and under which licence. The GGUF's own metadata says it where it can
/// (`general.license`, `general.source.url`, ...); the sidecar `NAME.origin.json` that
/// scripts/install-models.sh and `kansoctl pull` write beside the file fills what it does not.
struct ModelFileInfo: Codable {
    var file: String
    var folder: String
    var bytes: Int
    var architecture: String?
    var name: String?
    var license: String?
    var source: String?
    var sha256: String?
    /// Why the engine could not load it, or nil when it can.
    var problem: String?

    /// The sidecar beside a model file.
    struct Origin: Codable {
        var source: String?
        var license: String?
        var sha256: String?
    }

    static func originPath(of modelPath: String) -> String { modelPath + ".origin.json" }

    static func readOrigin(of modelPath: String) -> Origin? {
        guard let data = FileManager.default.contents(atPath: originPath(of: modelPath)) else { return nil }
        return try? JSONDecoder().decode(Origin.self, from: data)
    }

    /// Writes the sidecar atomically (a temporary file in the same folder, then a rename).
    static func writeOrigin(_ origin: Origin, of modelPath: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let url = URL(fileURLWithPath: originPath(of: modelPath))
        try encoder.encode(origin).write(to: url, options: .atomic)
    }

    init(path: String) {
        let url = URL(fileURLWithPath: path)
        file = url.lastPathComponent
        folder = url.deletingLastPathComponent().path
        bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        let origin = Self.readOrigin(of: path)
        do {
            let gguf = try GGUFFile(path: path)
            let metadata = gguf.metadata
            architecture = metadata.string("general.architecture")
            name = metadata.string("general.name")
            license = metadata.string("general.license")
            source = metadata.string("general.source.url") ?? metadata.string("general.url")
                ?? metadata.string("general.source.huggingface.repository").map { "https://huggingface.co/" + $0 }
            problem = SupportedModels.problem(with: gguf)
        } catch {
            problem = "not a readable GGUF file: \(error)"
        }
        license = license ?? origin?.license
        source = source ?? origin?.source
        sha256 = origin?.sha256
    }

    /// Every `*.gguf` in the folders, in folder order then by name; folders that do not exist are skipped.
    static func list(folders: [String]) -> [ModelFileInfo] {
        var seen = Set<String>()
        var infos: [ModelFileInfo] = []
        for folder in folders where seen.insert(folder).inserted {
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { continue }
            for name in names.sorted() where name.hasSuffix(".gguf") && !name.hasPrefix(".") {
                infos.append(ModelFileInfo(path: folder + "/" + name))
            }
        }
        return infos
    }
}
