import SystemPackage
import KansoTOML
import KansoWire

/// One worked example of an agent (manifest `examples`, or a line of `examples_file`): a text and
/// the answer the agent should give for it. Classify: `{ text, label }`; extract: `{ text, value =
/// {...} }`; predict: `{ text, continuation }`. The first `shots` examples become turns of the
/// agent's fixed prompt (AgentPrompt); a classify agent's examples also train its head (worker).
public struct AgentExample: Sendable, Equatable {
    public var text: String
    /// The label (classify), the value as compact JSON with sorted keys (extract), or the
    /// continuation (predict): what the model is shown after the text.
    public var answer: String

    public init(text: String, answer: String) {
        self.text = text
        self.answer = answer
    }
}

/// Reads and checks an agent's examples, from an inline list or a JSON Lines file beside the
/// manifest; every problem names the key and the item (inline, from 1) or line (file) at fault.
enum AgentExamplesReader {
    /// The most examples an agent may have, and the longest text and answer of one, in UTF-8 bytes.
    static let maximumCount = 1024
    static let maximumTextBytes = 4096
    static let maximumAnswerBytes = 4096
    /// An examples file (JSON Lines).
    static let fileBytes = 1 << 20

    /// The answer's key for each task.
    static func answerKey(_ task: AgentManifest.Task) -> String {
        switch task {
        case .classify: return "label"
        case .extract: return "value"
        case .predict: return "continuation"
        }
    }

    static func read(_ fields: Fields, task: AgentManifest.Task, labels: [String]?, manifestPath: String) throws(ManifestProblem) -> [AgentExample] {
        let inline = fields.table["examples"]
        let file = try fields.optionalString("examples_file")
        if inline != nil, file != nil { throw fields.problem("examples", "give the examples inline or as examples_file, not both") }
        var items: [(place: String, value: JSONValue)] = []
        let key: String
        if let inline {
            key = "examples"
            guard let array = inline.arrayValue else {
                throw fields.problem(key, "expected a list of tables such as { text = \"...\", \(answerKey(task)) = ... }, got \(inline.typeName)")
            }
            items = array.enumerated().map { ("item \($0.offset + 1)", JSONValue(toml: $0.element)) }
        } else if let file {
            key = "examples_file"
            let path = file.hasPrefix("/") ? file : FilePath(manifestPath).removingLastComponent().appending(file).string
            let bytes: [UInt8]
            do {
                bytes = try FileSystem.readRegularFile(path, limit: fileBytes)
            } catch {
                throw fields.problem(key, "cannot read \(path): \(error.reason)")
            }
            for (index, line) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
                guard line.contains(where: { $0 != UInt8(ascii: " ") && $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\t") }) else { continue }
                do {
                    items.append(("\(path) line \(index + 1)", try JSONText.parse(line)))
                } catch {
                    throw fields.problem(key, "\(path) line \(index + 1) is not valid JSON: \(error)")
                }
            }
        } else {
            return []
        }
        guard items.count <= maximumCount else { throw fields.problem(key, "\(items.count) examples, more than the limit of \(maximumCount)") }
        return try items.map { item throws(ManifestProblem) in
            try example(item.value, task: task, labels: labels) { fields.problem(key, "\(item.place): \($0)") }
        }
    }

    /// One example from its JSON object, or the problem `fail` makes of what is wrong with it.
    private static func example(_ value: JSONValue, task: AgentManifest.Task, labels: [String]?,
                                fail: (String) -> ManifestProblem) throws(ManifestProblem) -> AgentExample {
        let answerKey = answerKey(task)
        guard case .object(let object) = value else { throw fail("expected an object with text and \(answerKey), got \(value.compactJSON)") }
        for name in object.keys.sorted() where name != "text" && name != answerKey {
            throw fail("unknown key \"\(name)\"; a \(task.rawValue) agent's example has text and \(answerKey)")
        }
        guard case .string(let text)? = object["text"] else { throw fail("text is missing or not a string") }
        guard !text.trimmingWhitespace().isEmpty else { throw fail("text is empty") }
        guard text.utf8.count <= maximumTextBytes else { throw fail("text has \(text.utf8.count) bytes, more than the limit of \(maximumTextBytes)") }
        guard let given = object[answerKey] else { throw fail("\(answerKey) is missing") }
        let answer: String
        switch (task, given) {
        case (.classify, .string(let label)):
            guard labels?.contains(label) ?? false else {
                throw fail("label \"\(label)\" is not one of the agent's labels (\((labels ?? []).joined(separator: ", ")))")
            }
            answer = label
        case (.extract, .object):
            answer = given.compactJSON
        case (.predict, .string(let continuation)):
            guard !continuation.isEmpty else { throw fail("continuation is empty") }
            answer = continuation
        default:
            throw fail("\(answerKey) must be \(task == .extract ? "a table (an object)" : "a string"), got \(given.compactJSON)")
        }
        guard answer.utf8.count <= maximumAnswerBytes else {
            throw fail("\(answerKey) has \(answer.utf8.count) bytes, more than the limit of \(maximumAnswerBytes)")
        }
        return AgentExample(text: text, answer: answer)
    }
}
