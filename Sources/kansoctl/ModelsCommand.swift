import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl models`: the model files on the model search path, with their licences. Read from the
/// files themselves, so it needs no daemon.
struct Models: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List the model files on the model search path: size, architecture, licence, source.",
        discussion: "Licence and source come from the GGUF's metadata, else from NAME.origin.json beside the file (written by scripts/install-models.sh and kansoctl pull).")

    @Option(name: .long, help: ArgumentHelp("Folders to list, ':'-separated (default: $KANSO_MODEL_PATH, else the daemon's default search path).", valueName: "dirs"))
    var modelPath: String?

    @Flag(name: .long, help: "Print JSON, for scripts.") var json = false

    func run() throws {
        let folders = ModelFolders.searchPath(override: modelPath)
        let models = ModelFileInfo.list(folders: folders)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            print(String(decoding: try encoder.encode(models), as: UTF8.self))
            return
        }
        guard !models.isEmpty else {
            print("no model files in \(folders.joined(separator: ", "))")
            return
        }
        var folderOrder: [String] = []
        for model in models where !folderOrder.contains(model.folder) { folderOrder.append(model.folder) }
        for (index, folder) in folderOrder.enumerated() {
            if index > 0 { print() }
            print("\(folder):")
            print(Table.render(
                header: ["FILE", "SIZE", "ARCHITECTURE", "LICENCE", "SOURCE"],
                rows: models.filter { $0.folder == folder }.map { model in
                    [model.file, Format.bytes(model.bytes), model.architecture ?? "?", model.license ?? "unknown",
                     model.source ?? "unknown"]
                }))
        }
        let unusable = models.filter { $0.problem != nil }
        if !unusable.isEmpty {
            print("\nNot loadable:")
            for model in unusable { print("  \(model.file): \(model.problem!)") }
        }
    }
}
