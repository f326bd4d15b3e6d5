/// An agent's prompt split at `{text}`: the fixed prefix (computed once per load and reused), the
/// request's text, and the fixed suffix.
public struct PromptTemplate: Sendable, Equatable {
    public var prefix: String
    public var suffix: String

    public init(_ template: String) {
        if let range = template.firstRange(of: "{text}") {
            prefix = String(template[..<range.lowerBound])
            suffix = String(template[range.upperBound...])
        } else {
            prefix = template
            suffix = ""
        }
    }

    public func render(_ text: String) -> String { prefix + text + suffix }
}
