/// Where JSON text stops being valid, and why.
public struct JSONParseError: Error, Equatable, CustomStringConvertible {
    /// Byte offset in the input where the problem was found.
    public var offset: Int
    public var message: String

    public init(offset: Int, message: String) {
        self.offset = offset
        self.message = message
    }

    public var description: String { "\(message) at byte \(offset)" }
}
