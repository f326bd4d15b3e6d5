/// How large a manifest and each of its fields may be. Far below the socket's message limit
/// (1 MiB by default, 64 KiB at the least): one agent's entry in `List` stays under 40 KiB with
/// every field at its limit (control characters, which JSON escapes six times over, are refused
/// in the fields replies carry), and a folder of hostile manifests cannot slow start-up or a
/// reload, nor make a reply that no client can read.
public enum ManifestLimits {
    /// One manifest file (TOML).
    public static let fileBytes = 256 << 10
    /// A schema file beside a manifest (JSON).
    public static let schemaFileBytes = 256 << 10
    /// Manifests read from one folder, in file-name order; the rest are reported as problems.
    public static let manifestsPerFolder = 256

    /// Longest value of each string field, in UTF-8 bytes.
    static let fieldBytes: [String: Int] = [
        "model": 1024, "description": 1024, "prompt": 64 << 10, "escalate_to": 64, "schema_file": 1024,
    ]
    static let labels = 128
    static let labelBytes = 128
    static let stopStrings = 16
    static let stopBytes = 64
    /// An inline schema, as compact JSON.
    static let schemaBytes = 64 << 10

    /// Fields that replies carry (List, Status): no control characters but tab and newline.
    static let repliedFields: Set<String> = ["model", "description", "labels", "escalate_to"]

    /// Why `text`, the value of `key`, is over its limit or holds what it may not; nil when fine.
    static func violation(of text: String, key: String, limit: Int) -> String? {
        let bytes = text.utf8.count
        if bytes > limit { return "\(bytes) bytes, more than the limit of \(limit)" }
        if repliedFields.contains(key),
           let scalar = text.unicodeScalars.first(where: { $0.properties.generalCategory == .control && $0 != "\n" && $0 != "\t" }) {
            return "contains the control character U+\(String(scalar.value, radix: 16, uppercase: true)), which it may not"
        }
        return nil
    }

    /// Longest message of a `ManifestProblem` and longest key it names, in characters: problems
    /// quote what they found, and what they found may be huge.
    static let problemMessageCharacters = 512
    static let problemKeyCharacters = 128

    /// `text` cut to `limit` characters, with an ellipsis when cut.
    static func shortened(_ text: String, to limit: Int) -> String {
        guard text.count > limit else { return text }
        return String(text.prefix(limit - 1)) + "…"
    }
}
