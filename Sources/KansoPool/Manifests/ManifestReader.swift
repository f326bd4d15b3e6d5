import SystemPackage
import KansoGGUF
import Glibc
import KansoTOML
import KansoWire

/// Reads and validates one agent manifest (TOML). Every rejection is a `ManifestProblem` that
/// names the file, the key and what was expected; unknown keys are rejected too, so a typo
/// (`lables`) is reported instead of silently ignored.
public struct ManifestReader: Sendable {
    /// Keys a manifest may have, with what each must hold (for messages).
    static let knownKeys: [String: String] = [
        "name": "a name of letters, digits, '-', '_' or '.'",
        "task": "one of predict, classify, extract",
        "model": "a GGUF file name or path",
        "prompt": "a template containing {text}",
        "template": "\"raw\" (the prompt is the model's input) or \"chat\" (the prompt is the user turn of the model's chat template)",
        "system": "the system turn's text, for template = \"chat\"",
        "description": "a string",
        "priority": "one of interactive, normal, background",
        "keep_alive": "\"0\", a duration such as \"5m\", or \"forever\"",
        "labels": "a list of distinct non-empty strings",
        "schema": "an inline table holding a JSON Schema",
        "schema_file": "a JSON Schema file beside the manifest",
        "escalate_below": "a number between 0 and 1",
        "escalate_to": "another agent's name",
        "max_tokens": "a positive integer",
        "stop": "a list of strings",
        "context_length": "a positive integer",
        "max_input_tokens": "a positive integer",
        "truncate": "a boolean",
        "reproducible": "a boolean",
        "kv_cache": "one of f16, q8_0, f32",
        "sampling": "a table of temperature, top_k, top_p, min_p, repeat_penalty, seed",
        "examples": "a list of worked examples: { text, label } (classify), { text, value = {...} } (extract), { text, continuation } (predict)",
        "examples_file": "a JSON Lines file of worked examples beside the manifest",
        "shots": "how many of the examples become turns of the prompt: 0 or a positive integer",
    ]
    static let samplingKeys: Set<String> = ["temperature", "top_k", "top_p", "min_p", "repeat_penalty", "seed"]

    /// Whether the worker's constrained decoding can use a schema; throws why not. The supervisor
    /// does not link the engine, so the daemon passes the worker's own compiler (KansoWorker's
    /// `ExtractionSchema.check`) and every schema is compiled once at load. Without one, only the
    /// schema's shape is checked here and an unsupported keyword fails at the first request.
    public typealias SchemaCheck = @Sendable (JSONValue) throws -> Void
    let schemaCheck: SchemaCheck?

    public init(schemaCheck: SchemaCheck? = nil) {
        self.schemaCheck = schemaCheck
    }

    /// Reads the manifest at `path`: a regular file of at most `ManifestLimits.fileBytes`.
    public func read(path: String) throws(ManifestProblem) -> AgentManifest {
        let bytes: [UInt8]
        do {
            bytes = try FileSystem.readRegularFile(path, limit: ManifestLimits.fileBytes)
        } catch {
            throw ManifestProblem(file: path, message: "cannot read the manifest: \(error.reason)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ManifestProblem(file: path, message: "cannot read the manifest: not valid UTF-8 text")
        }
        return try parse(text, path: path)
    }

    /// Parses manifest text; `path` is used in messages and to resolve relative files.
    public func parse(_ text: String, path: String) throws(ManifestProblem) -> AgentManifest {
        let table: TOMLTable
        do {
            table = try TOMLParser.parse(text)
        } catch {
            throw ManifestProblem(file: path, message: "not valid TOML at line \(error.line), column \(error.column): \(error.message)")
        }
        let fields = Fields(table: table, file: path)
        for key in table.keys.sorted() where Self.knownKeys[key] == nil {
            throw fields.problem(key, "unknown key; expected one of \(Self.knownKeys.keys.sorted().joined(separator: ", "))")
        }
        try checkLimits(fields)

        let name = try fields.requiredString("name")
        guard !name.isEmpty, name.count <= 64,
              name.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0)) })
        else { throw fields.problem("name", "expected \(Self.knownKeys["name"]!) (1 to 64 characters), got \"\(name)\"") }

        let taskText = try fields.requiredString("task")
        guard let task = AgentManifest.Task(rawValue: taskText) else {
            throw fields.problem("task", "expected one of predict, classify, extract, got \"\(taskText)\"")
        }
        let model = try fields.requiredString("model")
        guard !model.isEmpty else { throw fields.problem("model", "expected a GGUF file name or path, got an empty string") }
        var style = AgentManifest.PromptStyle.raw
        if let text = try fields.optionalString("template") {
            guard let value = AgentManifest.PromptStyle(rawValue: text) else {
                throw fields.problem("template", "expected \(Self.knownKeys["template"]!), got \"\(text)\"")
            }
            style = value
        }
        // A chat agent's user turn may be the request's text alone.
        let prompt = style == .chat ? try fields.optionalString("prompt") ?? "{text}" : try fields.requiredString("prompt")
        guard prompt.contains("{text}") else {
            throw fields.problem("prompt", "expected a template containing {text}, where the request's text goes")
        }
        let system = try fields.optionalString("system")
        if system != nil, style != .chat {
            throw fields.problem("system", "a system turn needs template = \"chat\"; a raw prompt holds all of its text in prompt")
        }

        var priority = AgentManifest.Priority.normal
        if let text = try fields.optionalString("priority") {
            guard let value = AgentManifest.Priority(rawValue: text) else {
                throw fields.problem("priority", "expected one of interactive, normal, background, got \"\(text)\"")
            }
            priority = value
        }
        var keepAlive = KeepAlive.standard
        if let value = table["keep_alive"] {
            let text = value.stringValue ?? value.integerValue.map(String.init)
            guard let text, let parsed = KeepAlive(parsing: text) else {
                throw fields.problem("keep_alive", "expected \(Self.knownKeys["keep_alive"]!), got \(value.stringValue.map { "\"\($0)\"" } ?? value.typeName)")
            }
            keepAlive = parsed
        }

        var labels = try fields.optionalStrings("labels")
        if let given = labels {
            guard !given.isEmpty else { throw fields.problem("labels", "expected at least one label") }
            if let empty = given.firstIndex(where: { $0.trimmingWhitespace().isEmpty }) {
                throw fields.problem("labels", "label \(empty + 1) is empty")
            }
            if Set(given).count != given.count {
                let duplicate = given.first { label in given.filter { $0 == label }.count > 1 }!
                throw fields.problem("labels", "label \"\(duplicate)\" appears more than once")
            }
        }
        if task == .classify, labels == nil {
            throw fields.problem("labels", "a classify agent needs labels: \(Self.knownKeys["labels"]!)")
        }
        if task != .classify, labels != nil {
            throw fields.problem("labels", "only classify agents take labels (this one is \(task.rawValue))")
        }
        if task != .classify { labels = nil }

        let schema = try readSchema(fields, task: task, path: path)

        let escalateBelow = try fields.optionalNumber("escalate_below")
        if let threshold = escalateBelow, !(threshold > 0 && threshold < 1) {
            throw fields.problem("escalate_below", "expected a number between 0 and 1 (exclusive), got \(threshold)")
        }
        let escalateTo = try fields.optionalString("escalate_to")
        if escalateTo != nil, task != .classify {
            throw fields.problem("escalate_to", "escalation is decided by classification confidence: only classify agents escalate")
        }
        if escalateTo == name { throw fields.problem("escalate_to", "an agent cannot escalate to itself") }

        let maxTokens = try fields.optionalPositiveInt("max_tokens")
        let stop = try fields.optionalStrings("stop") ?? []
        let contextLength = try fields.optionalPositiveInt("context_length")
        let maxInputTokens = try fields.optionalPositiveInt("max_input_tokens")
        let truncate = try fields.optionalBool("truncate") ?? false
        let reproducible = try fields.optionalBool("reproducible") ?? false
        var kvCache: KVCacheType?
        if let text = try fields.optionalString("kv_cache") {
            guard let type = KVCacheType(name: text) else {
                throw fields.problem("kv_cache", "expected \(Self.knownKeys["kv_cache"]!), got \"\(text)\"")
            }
            kvCache = type
        }
        let sampling = try readSampling(fields)
        let examples = try AgentExamplesReader.read(fields, task: task, labels: labels, manifestPath: path)
        let shots = try fields.optionalInt("shots")
        if let shots, !(0...examples.count).contains(shots) {
            throw fields.problem("shots", "expected 0 to \(examples.count) (the number of examples), got \(shots)")
        }

        return AgentManifest(name: name, task: task, model: model, prompt: prompt, template: style, system: system,
                             description: try fields.optionalString("description"), priority: priority,
                             keepAlive: keepAlive, labels: labels, schema: schema, escalateBelow: escalateBelow,
                             escalateTo: escalateTo, maxTokens: maxTokens, stop: stop, contextLength: contextLength,
                             maxInputTokens: maxInputTokens, truncate: truncate, kvCache: kvCache, sampling: sampling,
                             manifestPath: path, examples: examples, shots: shots ?? examples.count,
                             reproducible: reproducible)
    }

    /// Each field within `ManifestLimits`, before anything quotes or stores it.
    private func checkLimits(_ fields: Fields) throws(ManifestProblem) {
        for (key, limit) in ManifestLimits.fieldBytes {
            guard let text = fields.table[key]?.stringValue else { continue }
            if let violation = ManifestLimits.violation(of: text, key: key, limit: limit) { throw fields.problem(key, violation) }
        }
        let lists = [("labels", ManifestLimits.labels, ManifestLimits.labelBytes), ("stop", ManifestLimits.stopStrings, ManifestLimits.stopBytes)]
        for (key, count, bytes) in lists {
            guard let items = fields.table[key]?.arrayValue else { continue }
            if items.count > count { throw fields.problem(key, "\(items.count) items, more than the limit of \(count)") }
            for (index, item) in items.enumerated() {
                guard let text = item.stringValue else { continue }
                if let violation = ManifestLimits.violation(of: text, key: key, limit: bytes) {
                    throw fields.problem(key, "item \(index + 1): \(violation)")
                }
            }
        }
        if let inline = fields.table["schema"], case let size = JSONValue(toml: inline).compactJSON.utf8.count, size > ManifestLimits.schemaBytes {
            throw fields.problem("schema", "\(size) bytes as JSON, more than the limit of \(ManifestLimits.schemaBytes)")
        }
    }

    private func readSchema(_ fields: Fields, task: AgentManifest.Task, path: String) throws(ManifestProblem) -> JSONValue? {
        let inline = fields.table["schema"]
        let file = try fields.optionalString("schema_file")
        if inline != nil, file != nil { throw fields.problem("schema", "give the schema inline or as schema_file, not both") }
        if task != .extract, inline != nil || file != nil {
            throw fields.problem(inline != nil ? "schema" : "schema_file", "only extract agents take a schema (this one is \(task.rawValue))")
        }
        var schema: JSONValue?
        if let inline {
            guard let table = inline.tableValue else { throw fields.problem("schema", "expected \(Self.knownKeys["schema"]!)") }
            schema = JSONValue(toml: .table(table))
        } else if let file {
            let schemaPath = file.hasPrefix("/") ? file : FilePath(path).removingLastComponent().appending(file).string
            let data: [UInt8]
            do {
                data = try FileSystem.readRegularFile(schemaPath, limit: ManifestLimits.schemaFileBytes)
            } catch {
                throw fields.problem("schema_file", "cannot read \(schemaPath): \(error.reason)")
            }
            do {
                schema = try JSONText.parse(data)
            } catch {
                throw fields.problem("schema_file", "\(schemaPath) is not valid JSON: \(error)")
            }
        }
        if task == .extract {
            guard let schema else { throw fields.problem("schema", "an extract agent needs a JSON Schema: schema = {...} or schema_file = \"...\"") }
            guard case .object(let object) = schema else { throw fields.problem("schema", "a JSON Schema must be an object") }
            if let type = object["type"], type != .string("object") {
                throw fields.problem("schema", "the top-level schema must describe an object (\"type\" = \"object\"), got \(type.compactJSON)")
            }
            // Compiled here once so that an unsupported keyword is a manifest problem, not a
            // failure at the first request.
            do {
                try schemaCheck?(schema)
            } catch {
                throw fields.problem(inline != nil ? "schema" : "schema_file", "cannot be used for constrained decoding: \(error)")
            }
        }
        return schema
    }

    private func readSampling(_ fields: Fields) throws(ManifestProblem) -> AgentManifest.Sampling {
        var sampling = AgentManifest.Sampling()
        guard let value = fields.table["sampling"] else { return sampling }
        guard let table = value.tableValue else { throw fields.problem("sampling", "expected \(Self.knownKeys["sampling"]!)") }
        for key in table.keys.sorted() where !Self.samplingKeys.contains(key) {
            throw fields.problem("sampling.\(key)", "unknown key; expected one of \(Self.samplingKeys.sorted().joined(separator: ", "))")
        }
        let inner = Fields(table: table, file: fields.file, prefix: "sampling.")
        if let t = try inner.optionalNumber("temperature") {
            guard t >= 0, t <= 10 else { throw inner.problem("temperature", "expected a number from 0 to 10, got \(t)") }
            sampling.temperature = t
        }
        if let k = try inner.optionalInt("top_k") {
            guard k >= 0 else { throw inner.problem("top_k", "expected 0 (off) or a positive integer, got \(k)") }
            sampling.topK = k
        }
        if let p = try inner.optionalNumber("top_p") {
            guard p > 0, p <= 1 else { throw inner.problem("top_p", "expected a number in (0, 1], got \(p)") }
            sampling.topP = p
        }
        if let p = try inner.optionalNumber("min_p") {
            guard p >= 0, p < 1 else { throw inner.problem("min_p", "expected a number in [0, 1), got \(p)") }
            sampling.minP = p
        }
        if let r = try inner.optionalNumber("repeat_penalty") {
            guard r > 0 else { throw inner.problem("repeat_penalty", "expected a positive number, got \(r)") }
            sampling.repeatPenalty = r
        }
        sampling.seed = try inner.optionalInt("seed")
        return sampling
    }
}

/// Typed access to one TOML table's keys, each failure a `ManifestProblem` naming the key.
struct Fields {
    let table: TOMLTable
    let file: String
    var prefix = ""

    func problem(_ key: String, _ message: String) -> ManifestProblem {
        ManifestProblem(file: file, key: prefix + key, message: message)
    }

    private func typeName(_ value: TOMLValue) -> String {
        value.typeName
    }

    func requiredString(_ key: String) throws(ManifestProblem) -> String {
        guard let value = table[key] else {
            throw problem(key, "missing; expected \(ManifestReader.knownKeys[key] ?? "a string")")
        }
        guard let text = value.stringValue else { throw problem(key, "expected a string, got \(typeName(value))") }
        return text
    }

    func optionalString(_ key: String) throws(ManifestProblem) -> String? {
        guard let value = table[key] else { return nil }
        guard let text = value.stringValue else { throw problem(key, "expected a string, got \(typeName(value))") }
        return text
    }

    func optionalStrings(_ key: String) throws(ManifestProblem) -> [String]? {
        guard let value = table[key] else { return nil }
        guard let array = value.arrayValue else { throw problem(key, "expected a list of strings, got \(typeName(value))") }
        var strings: [String] = []
        for (index, element) in array.enumerated() {
            guard let text = element.stringValue else {
                throw problem(key, "expected a list of strings, item \(index + 1) is \(typeName(element))")
            }
            strings.append(text)
        }
        return strings
    }

    func optionalNumber(_ key: String) throws(ManifestProblem) -> Double? {
        guard let value = table[key] else { return nil }
        if let number = value.floatValue { return number }
        if let number = value.integerValue { return Double(number) }
        throw problem(key, "expected a number, got \(typeName(value))")
    }

    func optionalInt(_ key: String) throws(ManifestProblem) -> Int? {
        guard let value = table[key] else { return nil }
        guard let number = value.integerValue else { throw problem(key, "expected an integer, got \(typeName(value))") }
        return number
    }

    func optionalPositiveInt(_ key: String) throws(ManifestProblem) -> Int? {
        guard let number = try optionalInt(key) else { return nil }
        guard number > 0 else { throw problem(key, "expected a positive integer, got \(number)") }
        return number
    }

    func optionalBool(_ key: String) throws(ManifestProblem) -> Bool? {
        guard let value = table[key] else { return nil }
        guard let flag = value.booleanValue else { throw problem(key, "expected true or false, got \(typeName(value))") }
        return flag
    }
}

extension JSONValue {
    /// A TOML value as JSON (for inline schemas). Dates become their text.
    init(toml value: TOMLValue) {
        switch value {
        case .table(let table):
            var object: [String: JSONValue] = [:]
            for (key, member) in table { object[key] = JSONValue(toml: member) }
            self = .object(object)
        case .array(let items): self = .array(items.map { JSONValue(toml: $0) })
        case .string(let text): self = .string(text)
        case .integer(let number): self = .int(number)
        case .float(let number): self = .double(number)
        case .boolean(let flag): self = .bool(flag)
        case .dateTime(let moment): self = .string(moment.text)
        }
    }
}
