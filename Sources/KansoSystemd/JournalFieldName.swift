/// Turns a swift-log metadata key into a journal field name.
///
/// Reference: systemd.journal-fields(7) and sd_journal_print(3): a field name is upper-case
/// letters, digits and underscores, must not start with an underscore (those are the trusted
/// fields journald adds itself) or a digit, and is at most 64 characters.
public enum JournalFieldName {
    /// The longest name journald accepts.
    public static let maximumLength = 64

    /// The fields the handler writes itself; a metadata key that maps onto one of them is
    /// prefixed with `METADATA_` so it cannot replace the message, priority or location.
    public static let reserved: Set<String> = [
        "MESSAGE", "PRIORITY", "SYSLOG_IDENTIFIER", "CODE_FILE", "CODE_LINE", "CODE_FUNC",
        "LOGGER_LABEL", "ERROR",
    ]

    /// The journal field name for a metadata key: `request-id` → `REQUEST_ID`,
    /// `_private` → `PRIVATE`, `2fa` → `FIELD_2FA`, `message` → `METADATA_MESSAGE`.
    /// Letters are upper-cased, any other character outside `A-Z0-9_` becomes `_`, leading
    /// underscores are dropped, a name left empty or starting with a digit gets `FIELD_` in
    /// front, and the result is cut to 64 characters.
    public static func sanitize(_ key: String) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in key.unicodeScalars {
            switch scalar {
            case "a"..."z":
                scalars.append(Unicode.Scalar(scalar.value - 0x20)!)
            case "A"..."Z", "0"..."9", "_":
                scalars.append(scalar)
            default:
                scalars.append("_")
            }
        }
        var name = String(String(scalars).drop { $0 == "_" })
        if name.isEmpty {
            name = "FIELD"
        } else if let first = name.unicodeScalars.first, ("0"..."9").contains(first) {
            name = "FIELD_" + name
        }
        if reserved.contains(name) {
            name = "METADATA_" + name
        }
        return String(name.prefix(maximumLength))
    }

    /// Whether a name is already acceptable to journald as a field written by a client.
    public static func isValid(_ name: String) -> Bool {
        guard !name.isEmpty, name.utf8.count <= maximumLength,
              let first = name.unicodeScalars.first, first != "_", !("0"..."9").contains(first)
        else { return false }
        return name.unicodeScalars.allSatisfy { ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }
}
