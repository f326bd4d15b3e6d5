import CSystemd
import Glibc
import Logging

/// A swift-log handler that writes structured entries to journald with `sd_journal_sendv`:
/// `MESSAGE`, `PRIORITY` (syslog level), `SYSLOG_IDENTIFIER`, `CODE_FILE`, `CODE_LINE`,
/// `CODE_FUNC`, `LOGGER_LABEL`, `ERROR` when the event carries one, and every metadata key as
/// its own upper-case field (`JournalFieldName.sanitize`), so `journalctl MODEL=…` filters work.
///
/// Reference: sd_journal_print(3) for sd_journal_sendv and systemd.journal-fields(7).
/// Values may hold newlines or any bytes: sd_journal_sendv sends those in the binary-safe form.
public struct JournalLogHandler: LogHandler {
    /// The logger's label, written as `LOGGER_LABEL`.
    public let label: String
    /// The program name, written as `SYSLOG_IDENTIFIER` (what `journalctl -t` matches).
    public let identifier: String
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?

    public init(label: String, identifier: String, metadataProvider: Logger.MetadataProvider? = nil) {
        self.label = label
        self.identifier = identifier
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        // A failed write (journald gone, socket full) has nowhere better to be reported.
        _ = Self.send(fields: fields(for: event))
    }

    /// The `NAME=value` assignments for one event, in a fixed order: the handler's own fields,
    /// then metadata sorted by field name. Metadata from the call overrides the provider's,
    /// which overrides the handler's.
    func fields(for event: LogEvent) -> [String] {
        var fields = [
            "MESSAGE=\(event.message)",
            "PRIORITY=\(Self.syslogPriority(for: event.level))",
            "SYSLOG_IDENTIFIER=\(identifier)",
            "CODE_FILE=\(event.file)",
            "CODE_LINE=\(event.line)",
            "CODE_FUNC=\(event.function)",
            "LOGGER_LABEL=\(label)",
        ]
        if let error = event.error {
            fields.append("ERROR=\(error)")
        }
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let callMetadata = event.metadata {
            merged.merge(callMetadata) { _, new in new }
        }
        // Two keys can sanitize to one name (`request-id`, `request_id`); the later key in
        // sorted order wins so the entry has one value per field.
        var byFieldName: [String: String] = [:]
        for key in merged.keys.sorted() {
            byFieldName[JournalFieldName.sanitize(key)] = Self.render(merged[key]!)
        }
        for name in byFieldName.keys.sorted() {
            fields.append("\(name)=\(byFieldName[name]!)")
        }
        return fields
    }

    /// syslog(3) priorities: 7 debug, 6 info, 5 notice, 4 warning, 3 err, 2 crit.
    /// swift-log's `trace` has no syslog level below debug, so it shares 7.
    static func syslogPriority(for level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: return 7
        case .info: return 6
        case .notice: return 5
        case .warning: return 4
        case .error: return 3
        case .critical: return 2
        }
    }

    /// A metadata value as text: strings as they are, containers in swift-log's own notation.
    static func render(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): return text
        case .stringConvertible(let convertible): return convertible.description
        case .array, .dictionary: return value.description
        }
    }

    /// Sends assignments as one journal entry; returns 0 or a negative errno.
    static func send(fields: [String]) -> Int32 {
        // One contiguous buffer [total bytes] with an iovec [fields.count] pointing into it.
        var bytes: [UInt8] = []
        var ranges: [Range<Int>] = []
        ranges.reserveCapacity(fields.count)
        for field in fields {
            let start = bytes.count
            bytes.append(contentsOf: field.utf8)
            ranges.append(start..<bytes.count)
        }
        return bytes.withUnsafeMutableBytes { buffer in
            var vectors = ranges.map { range in
                iovec(iov_base: buffer.baseAddress.map { $0 + range.lowerBound }, iov_len: range.count)
            }
            return vectors.withUnsafeMutableBufferPointer { vectorBuffer in
                sd_journal_sendv(vectorBuffer.baseAddress, Int32(vectorBuffer.count))
            }
        }
    }
}
