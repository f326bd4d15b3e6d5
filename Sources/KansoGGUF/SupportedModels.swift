/// What the engine can load, as the GGUF leaf knows it, so that tools that never link the engine
/// (`kansoctl pull` checks a download before moving it into the model folder) refuse what a worker
/// would refuse. The engine's own list (ModelArchitecture) is tested to agree with this one.
public enum SupportedModels {
    /// `general.architecture` values the forward pass implements.
    public static let architectures: [String] = ["gemma3", "llama", "qwen2", "qwen3"]

    /// Why the engine could not load a model with this header, or nil when it could.
    public static func problem(with file: GGUFFile) -> String? {
        guard let architecture = file.metadata.string("general.architecture") else {
            return "it names no architecture (general.architecture is missing)"
        }
        guard architectures.contains(architecture) else {
            return "its architecture \(architecture) is not supported (Kanso runs \(architectures.joined(separator: ", ")))"
        }
        let unsupported = Set(file.tensors.map(\.type)).filter { !$0.isSupported }
        guard unsupported.isEmpty else {
            let names = unsupported.map(\.name).sorted().joined(separator: ", ")
            let supported = GGMLType.allCases.filter(\.isSupported).map(\.name).joined(separator: ", ")
            return "its tensors use \(names), which Kanso cannot compute with (it can: \(supported))"
        }
        return nil
    }
}
