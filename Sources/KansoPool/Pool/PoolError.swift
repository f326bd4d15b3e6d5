import KansoWire

/// Why the pool could not serve a request; each maps to the typed Varlink error the client gets.
public enum PoolError: Error, Sendable, Equatable, CustomStringConvertible {
    case modelUnavailable(model: String, reason: String)
    case budgetExceeded(model: String, neededBytes: Int, budgetBytes: Int, reason: String)
    case overloaded(model: String, queued: Int)
    case workerFailed(model: String, reason: String)
    case cancelled
    case shuttingDown
    case invalidInput(field: String, reason: String)

    public var description: String { varlinkError.description }

    /// A worker's error as the client's: a model that cannot load is unavailable, input the
    /// model refuses is invalid, anything the protocol did not expect is the worker failing.
    public init(_ error: WorkerError, model: String) {
        switch error {
        case .loadFailed(_, let reason), .modelUnusable(_, let reason): self = .modelUnavailable(model: model, reason: reason)
        case .invalidInput(let field, let reason): self = .invalidInput(field: field, reason: reason)
        case .cancelled: self = .cancelled
        case .protocolViolation(let violation): self = .workerFailed(model: model, reason: "\(violation)")
        }
    }

    public var varlinkError: VarlinkError {
        switch self {
        case .modelUnavailable(let model, let reason):
            return VarlinkError(name: "io.kanso.Agents.ModelUnavailable", parameters: ["model": .string(model), "reason": .string(reason)])
        case .budgetExceeded(let model, let needed, let budget, let reason):
            return VarlinkError(name: "io.kanso.Agents.BudgetExceeded",
                                parameters: ["model": .string(model), "neededBytes": .int(needed), "budgetBytes": .int(budget), "reason": .string(reason)])
        case .overloaded(let model, let queued):
            return VarlinkError(name: "io.kanso.Agents.Overloaded", parameters: ["model": .string(model), "queued": .int(queued)])
        case .workerFailed(let model, let reason):
            return VarlinkError(name: "io.kanso.Agents.WorkerFailed", parameters: ["model": .string(model), "reason": .string(reason)])
        case .cancelled:
            return VarlinkError(name: "io.kanso.Agents.Cancelled")
        case .shuttingDown:
            return .shuttingDown()
        case .invalidInput(let field, let reason):
            return .invalidInput(field: field, reason: reason)
        }
    }
}
