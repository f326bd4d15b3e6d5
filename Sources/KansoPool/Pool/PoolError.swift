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
