import KansoWire

/// Typed reading of a call's parameters; a missing or mistyped one is the standard
/// `org.varlink.service.InvalidParameter` naming it, and so is one the method does not take.
public struct Parameters {
    public let call: VarlinkCall

    /// Checks that the call carries only the named parameters.
    public init(_ call: VarlinkCall, allowed: Set<String>) throws(VarlinkError) {
        self.call = call
        if let unknown = call.parameters.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw .invalidParameter(unknown)
        }
    }

    public func string(_ name: String) throws(VarlinkError) -> String {
        guard let value = call.parameters[name], case .string(let text) = value else { throw .invalidParameter(name) }
        return text
    }

    public func optionalString(_ name: String) throws(VarlinkError) -> String? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw .invalidParameter(name)
        }
    }

    public func optionalInt(_ name: String) throws(VarlinkError) -> Int? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .int(let value)?: return value
        case .double(let value)? where value == value.rounded() && abs(value) < 1e15: return Int(value)
        default: throw .invalidParameter(name)
        }
    }

    public func optionalBool(_ name: String) throws(VarlinkError) -> Bool? {
        switch call.parameters[name] {
        case nil, .null?: return nil
        case .bool(let value)?: return value
        default: throw .invalidParameter(name)
        }
    }
}
