extension StringProtocol {
    /// The text without leading and trailing spaces, tabs, newlines and NULs (some sysfs drivers
    /// pad with NUL): what the configuration and /proc readers compare and parse.
    public func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\n" || $0 == "\t" || $0 == "\r" || $0 == "\0" || $0 == "\r\n" }
        guard let first = firstIndex(where: { !isSpace($0) }),
              let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(self[first...last])
    }
}
