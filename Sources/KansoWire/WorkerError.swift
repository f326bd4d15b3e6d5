/// Why a worker did not do a job: the one error type of `io.kanso.Worker`. The worker throws it,
/// it crosses the socketpair as the Varlink error `varlinkError` names, and the supervisor reads
/// it back with `init(reply:)`; no other place spells an `io.kanso.Worker.*` error name.
public enum WorkerError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The model could not be loaded (or none is loaded: `path` is then empty).
    case loadFailed(path: String, reason: String)
    /// The model file can never load as it is (not a GGUF file, an architecture, tensor type or
    /// tokenizer the engine does not support, a tensor missing): loading it again fails the same
    /// way until the file changes.
    case modelUnusable(path: String, reason: String)
    /// The request cannot be done on this model: too long for its context, a schema its grammar
    /// refuses, a value that did not complete within max_tokens. `field` names the culprit.
    case invalidInput(field: String, reason: String)
    /// The job was stopped by `Cancel` before it finished.
    case cancelled
    /// A message this protocol does not know (an unknown method, parameters of the wrong shape,
    /// bytes that are not a Varlink message): a bug on one side, carried as the standard Varlink
    /// error that says what.
    case protocolViolation(VarlinkError)

    static let loadFailedName = "io.kanso.Worker.LoadFailed"
    static let modelUnusableName = "io.kanso.Worker.ModelUnusable"
    static let invalidInputName = "io.kanso.Worker.InvalidInput"
    static let cancelledName = "io.kanso.Worker.Cancelled"

    /// The error as it goes on the wire.
    public var varlinkError: VarlinkError {
        switch self {
        case .loadFailed(let path, let reason):
            return VarlinkError(name: Self.loadFailedName, parameters: ["path": .string(path), "reason": .string(reason)])
        case .modelUnusable(let path, let reason):
            return VarlinkError(name: Self.modelUnusableName, parameters: ["path": .string(path), "reason": .string(reason)])
        case .invalidInput(let field, let reason):
            return VarlinkError(name: Self.invalidInputName, parameters: ["field": .string(field), "reason": .string(reason)])
        case .cancelled:
            return VarlinkError(name: Self.cancelledName)
        case .protocolViolation(let error):
            return error
        }
    }

    /// The error a worker's reply carries; nil for a successful reply.
    public init?(reply: VarlinkReply) {
        guard let name = reply.error else { return nil }
        let text = { (key: String) in reply.parameters[key]?.stringValue ?? "" }
        switch name {
        case Self.loadFailedName: self = .loadFailed(path: text("path"), reason: text("reason"))
        case Self.modelUnusableName: self = .modelUnusable(path: text("path"), reason: text("reason"))
        case Self.invalidInputName: self = .invalidInput(field: text("field"), reason: text("reason"))
        case Self.cancelledName: self = .cancelled
        default: self = .protocolViolation(VarlinkError(name: name, parameters: reply.parameters))
        }
    }

    public var description: String {
        switch self {
        case .loadFailed(let path, let reason): return path.isEmpty ? reason : "cannot load \(path): \(reason)"
        case .modelUnusable(let path, let reason): return "cannot load \(path), nor will it until the file changes: \(reason)"
        case .invalidInput(let field, let reason): return "\(field): \(reason)"
        case .cancelled: return "cancelled"
        case .protocolViolation(let error): return "protocol violation: \(error)"
        }
    }
}
