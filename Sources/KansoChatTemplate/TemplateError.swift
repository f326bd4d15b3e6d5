/// Why a template cannot be used: its text does not parse, it uses a construct this subset of
/// Jinja does not implement (named, so the manifest problem says which), or rendering failed
/// (the template raised an exception, or an operation had values it cannot take).
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// Not valid Jinja.
        case syntax
        /// Valid Jinja that this subset refuses rather than render differently from Jinja2.
        case unsupported
        /// An operation failed while rendering (a type error, a missing attribute).
        case render
        /// The template itself refused the conversation (`raise_exception(...)`).
        case raised
    }

    public var kind: Kind
    public var message: String
    /// The template's line (1-based) the error is on, when known.
    public var line: Int?

    public init(_ kind: Kind, _ message: String, line: Int? = nil) {
        self.kind = kind
        self.message = message
        self.line = line
    }

    public var description: String {
        let place = line.map { "line \($0): " } ?? ""
        switch kind {
        case .syntax: return "\(place)syntax error: \(message)"
        case .unsupported: return "\(place)unsupported construct: \(message)"
        case .render: return "\(place)cannot render: \(message)"
        case .raised: return "\(place)the template refused the conversation: \(message)"
        }
    }
}
