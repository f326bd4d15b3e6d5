// Errors of model loading and evaluation. Each case carries the offending value and says where.

public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// `general.architecture` names an architecture the engine does not implement.
    case unsupportedArchitecture(String)
    /// A required metadata key is absent or has the wrong type.
    case missingMetadata(key: String)
    /// A metadata value is out of range or inconsistent with another.
    case invalidMetadata(key: String, value: String, expected: String)
    /// A tensor the architecture needs is not in the file.
    case missingTensor(name: String)
    /// A tensor has a shape other than the configuration implies.
    case tensorShapeMismatch(name: String, shape: [Int], expected: [Int])
    /// A tensor type the kernels cannot read.
    case unsupportedTensorType(name: String, type: String)
    /// A token id outside [0, vocabularySize).
    case tokenOutOfRange(token: Int32, vocabularySize: Int)
    /// Evaluating would write past the cache's capacity (the context length).
    case contextFull(position: Int, capacity: Int)
    /// The cache was made for another model (different layer or head geometry).
    case cacheMismatch(String)
    /// An argument that makes no sense (an empty token list, a sequence twice in one batch).
    case invalidArgument(String)

    public var description: String {
        switch self {
        case .unsupportedArchitecture(let name):
            return "model: architecture '\(name)' is not supported (supported: \(ModelArchitecture.allCases.map(\.rawValue).joined(separator: ", ")))"
        case .missingMetadata(let key):
            return "model: metadata key '\(key)' is missing or has the wrong type"
        case .invalidMetadata(let key, let value, let expected):
            return "model: metadata key '\(key)' has value \(value), expected \(expected)"
        case .missingTensor(let name):
            return "model: tensor '\(name)' is missing from the file"
        case .tensorShapeMismatch(let name, let shape, let expected):
            return "model: tensor '\(name)' has shape \(shape), expected \(expected)"
        case .unsupportedTensorType(let name, let type):
            return "model: tensor '\(name)' has type \(type), which the engine cannot compute with"
        case .tokenOutOfRange(let token, let vocabularySize):
            return "model: token id \(token) is outside the vocabulary [0, \(vocabularySize))"
        case .contextFull(let position, let capacity):
            return "model: position \(position) does not fit the context of \(capacity) tokens"
        case .cacheMismatch(let detail):
            return "model: the cache does not belong to this model: \(detail)"
        case .invalidArgument(let detail):
            return "model: \(detail)"
        }
    }
}
