import SystemPackage
import Glibc

/// Every manifest of an agents folder, read at one moment: the agents that loaded, each with
/// where its model is and its prompt's fixed text (a chat agent's rendered from its model's chat
/// template), and the problems of those that did not. A broken manifest never stops the others.
public struct AgentCatalog: Sendable {
    public struct Entry: Sendable, Equatable {
        public var manifest: AgentManifest
        public var model: ModelLocator.Outcome
        /// The prompt's fixed text; nil for a chat agent whose model is missing (it is unavailable).
        public var prompt: AgentPrompt?
    }

    /// Agents by name, in name order.
    public private(set) var entries: [Entry]
    public private(set) var problems: [ManifestProblem]
    public let directory: String
    public let loadedAt: WallTime

    public func entry(named name: String) -> Entry? { entries.first { $0.manifest.name == name } }
    public var names: [String] { entries.map(\.manifest.name) }

    /// Reads `*.toml` in `directory` (not recursively), in file-name order, at most
    /// `ManifestLimits.manifestsPerFolder` of them.
    public static func load(directory: String, locator: ModelLocator, reader: ManifestReader = ManifestReader()) -> AgentCatalog {
        var entries: [Entry] = []
        var problems: [ManifestProblem] = []
        let files: [String]
        do {
            files = try FileSystem.directoryEntries(directory)
                .filter { $0.hasSuffix(".toml") && !$0.hasPrefix(".") }
                .sorted()
        } catch {
            return AgentCatalog(entries: [], problems: [ManifestProblem(file: directory, message: "cannot read the agents folder: \(error.reason)")],
                                directory: directory, loadedAt: .now)
        }
        var firstFileForName: [String: String] = [:]
        if files.count > ManifestLimits.manifestsPerFolder {
            let skipped = files.count - ManifestLimits.manifestsPerFolder
            problems.append(ManifestProblem(file: directory, message: "\(skipped) manifests not read, from \(files[ManifestLimits.manifestsPerFolder]) on: the folder holds more than \(ManifestLimits.manifestsPerFolder)"))
        }
        for file in files.prefix(ManifestLimits.manifestsPerFolder) {
            let path = FilePath(directory).appending(file).string
            do {
                let manifest = try reader.read(path: path)
                if let earlier = firstFileForName[manifest.name] {
                    problems.append(ManifestProblem(file: path, key: "name", message: "agent \"\(manifest.name)\" is already declared by \(earlier)"))
                    continue
                }
                firstFileForName[manifest.name] = path
                let model = locator.locate(manifest.model, manifestDirectory: manifest.directory)
                var prompt: AgentPrompt?
                switch model {
                case .found(let modelPath, _): prompt = try AgentPrompt.resolve(manifest, modelPath: modelPath)
                case .missing: prompt = manifest.template == .raw ? AgentPrompt(raw: manifest.prompt, shots: AgentPrompt.shots(manifest)) : nil
                }
                entries.append(Entry(manifest: manifest, model: model, prompt: prompt))
            } catch {
                problems.append(error)
            }
        }
        // Escalation must point at a loaded agent; otherwise the escalating agent is the problem.
        let names = Set(entries.map(\.manifest.name))
        entries.removeAll { entry in
            guard let target = entry.manifest.escalateTo, !names.contains(target) else { return false }
            problems.append(ManifestProblem(file: entry.manifest.manifestPath, key: "escalate_to",
                                            message: "no agent named \"\(target)\" is declared"))
            return true
        }
        entries.sort { $0.manifest.name < $1.manifest.name }
        return AgentCatalog(entries: entries, problems: problems, directory: directory, loadedAt: .now)
    }
}
