import KansoEngine
import KansoGGUF

/// Which load errors recur: those that come from the model file's own bytes (its format, its
/// metadata, its tensors, its tokenizer) fail the same way at every attempt until the file
/// changes, so the pool marks the model failed at once instead of retrying it with back-off.
/// Everything else (a file that cannot be opened now, memory, the cache folder) may pass.
enum LoadFailure {
    static func recurs(_ error: Error) -> Bool {
        switch error {
        case let error as GGUFError:
            if case .cannotOpen = error { return false }  // permissions, descriptors: may pass
            return true
        case let error as ModelError:
            switch error {
            case .unsupportedArchitecture, .missingMetadata, .invalidMetadata, .missingTensor, .tensorShapeMismatch,
                 .unsupportedTensorType:
                return true
            default:
                return false
            }
        case is TokenizerError:
            return true
        default:
            return false
        }
    }
}
