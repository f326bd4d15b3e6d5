// The extraction report of one model: greedy decoding under the contact schema (every field
// required, an absent one written ""), free strings or copied from the text (`x-kanso-from-text`,
// and the e-mail with `"format": "email"`), zero- and few-shot; field accuracy on name, e-mail
// and company, latency, and the grammar mask's cost per token against a generation step.

import Foundation
import KansoEngine

struct ExtractOptions {
    var shots = 6
    var maximumTokens = 160
    /// Print each wrong field of the benchmark (as HTML comments).
    var showErrors = false
    /// The schema's properties in order (the model writes them in this order).
    var fields = ["name", "email", "company", "phone"]
    /// Copy modes and shot counts to run (all by default).
    var copyModes = CopyMode.allCases
    var forms: [PromptForm]?
    var shotCounts: [Int]?
}

/// How the schema constrains the field values.
enum CopyMode: String, CaseIterable {
    /// Free strings.
    case none
    /// Copied from the text.
    case span
    /// Copied, and the e-mail an address.
    case spanEmail = "span+email"
}

struct ExtractBench {
    let model: Model
    let modelName: String
    let examples: [ExtractItem]
    let benchmark: [ExtractItem]
    let options: ExtractOptions

    static let graded = ["name", "email", "company"]
    static let maximumLengths = ["name": 80, "email": 120, "company": 80, "phone": 32]

    static func schema(_ copy: CopyMode, fields: [String]) -> String {
        let properties = fields.map { field -> String in
            var keywords = "\"type\":\"string\",\"maxLength\":\(maximumLengths[field]!)"
            if copy != .none { keywords += ",\"x-kanso-from-text\":true" }
            if copy == .spanEmail && field == "email" { keywords += ",\"format\":\"email\"" }
            return "\"\(field)\":{\(keywords)}"
        }
        let required = fields.map { "\"\($0)\"" }.joined(separator: ",")
        return "{\"type\":\"object\",\"properties\":{\(properties.joined(separator: ","))},\"required\":[\(required)]}"
    }

    static func normalized(_ text: String) -> String {
        var value = text.split(whereSeparator: \.isWhitespace).joined(separator: " ").lowercased()
        while let last = value.last, ".,;".contains(last) { value.removeLast() }
        return value
    }

    /// Right fields of `answer` among name, e-mail, company.
    static func grade(_ answer: [String: String], _ item: ExtractItem) -> [String: Bool] {
        var result: [String: Bool] = [:]
        for field in graded {
            let given = normalized(answer[field] ?? "")
            if let expected = item.value[field] {
                result[field] = ([expected] + (item.alsoAccept[field] ?? [])).map(normalized).contains(given)
            } else {
                result[field] = given.isEmpty
            }
        }
        return result
    }

    struct Outcome {
        var right: [String: Int] = [:]
        var fields = 0
        var failures = 0
        var seconds: [Double] = []
        var maskSeconds = 0.0
        var tokens = 0

        var accuracy: Double { Double(right.values.reduce(0, +)) / Double(max(fields, 1)) }
        func accuracy(_ field: String) -> Double { Double(right[field] ?? 0) / Double(max(fields / ExtractBench.graded.count, 1)) }
    }

    func run() throws {
        print("\n## \(modelName): extraction (examples \(examples.count), benchmark \(benchmark.count)), fields \(options.fields.joined(separator: ", "))\n")
        let masker = TokenMasker(tokenizer: model.tokenizer)
        let stepMicroseconds = try generationStepMicroseconds()
        print("| prompt | prefix tokens | copy | examples acc | benchmark acc | name | email | company | failed | p50 ms | p99 ms | mask µs/token | mask % of step |")
        print("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        let forms = (options.forms ?? [.raw, .chat]).filter { $0 != .chat || model.tokenizer.tokenID(spelled: "<|im_start|>") != nil }
        var failuresShown = 0
        for form in forms {
            for shotCount in options.shotCounts ?? [0, options.shots] {
                do {
                    for copy in options.copyModes {
                        let shots = Array(examples.prefix(shotCount))
                        let plan = PromptPlan.extract(form: form, tokenizer: model.tokenizer, shots: shots, fields: options.fields,
                                                      emptyForAbsent: true)
                        let grammar = try SchemaGrammar(schemaText: Self.schema(copy, fields: options.fields))
                        let prefix = try model.makeCache(capacity: plan.prefix.count + 1)
                        _ = try model.evaluate(plan.prefix, in: prefix)
                        var outcomes: [Outcome] = []
                        for items in [Array(examples.dropFirst(shotCount)), benchmark] {
                            var outcome = Outcome()
                            for item in items {
                                let tokens = plan.prefix + plan.tokens(item.text)
                                let cache = try model.makeCache(capacity: tokens.count + options.maximumTokens + 1)
                                try cache.copyPrefix(from: prefix, length: prefix.length)
                                var decoder = ConstrainedDecoder(model: model, grammar: copy != .none ? grammar.bound(toText: item.text) : grammar,
                                                                 masker: masker, sampler: SamplerChain(settings: .greedy),
                                                                 maximumTokens: options.maximumTokens)
                                let start = nanoseconds()
                                var answer: [String: String] = [:]
                                do {
                                    let result = try decoder.decode(prompt: tokens, in: cache)
                                    if case .object(let members) = result.value {
                                        for member in members { if case .string(let text) = member.value { answer[member.key] = text } }
                                    }
                                    outcome.maskSeconds += result.maskSeconds
                                    outcome.tokens += result.maskCount
                                } catch {
                                    outcome.failures += 1
                                    if failuresShown < 5 { print("<!-- failed: \(error) -->"); failuresShown += 1 }
                                }
                                outcome.seconds.append(Double(nanoseconds() - start) / 1e9)
                                for (field, right) in Self.grade(answer, item) {
                                    if right { outcome.right[field, default: 0] += 1 }
                                    if !right && options.showErrors && items.count == benchmark.count {
                                        print("<!-- \(plan.name) \(copy.rawValue) \(field): expected \(item.value[field] ?? "(none)"), got \(answer[field] ?? "(none)") -->")
                                    }
                                }
                                outcome.fields += Self.graded.count
                            }
                            outcomes.append(outcome)
                        }
                        let bench = outcomes[1]
                        let maskMicroseconds = 1e6 * (outcomes[0].maskSeconds + bench.maskSeconds) / Double(max(outcomes[0].tokens + bench.tokens, 1))
                        print("| \(plan.name) | \(plan.prefix.count) | \(copy.rawValue) | "
                              + "\(Statistics.format(outcomes[0].accuracy)) | \(Statistics.format(bench.accuracy)) | "
                              + Self.graded.map { Statistics.format(bench.accuracy($0)) }.joined(separator: " | ")
                              + " | \(outcomes[0].failures + bench.failures) | \(milliseconds(bench.seconds, 0.5)) | \(milliseconds(bench.seconds, 0.99)) | "
                              + "\(String(format: "%.0f", maskMicroseconds)) | \(String(format: "%.1f", 100 * maskMicroseconds / stepMicroseconds)) |")
                    }
                }
            }
        }
        print("\n(generation step \(String(format: "%.0f", stepMicroseconds)) µs: one token after a 100-token prompt, best of 32)")
    }

    /// One unconstrained decoding step after a prompt of typical length, best of 32.
    func generationStepMicroseconds() throws -> Double {
        let cache = try model.makeCache(capacity: 200)
        let prompt = Array(model.tokenizer.encode(String(repeating: "Contact details of a person. ", count: 20), addSpecial: true).prefix(100))
        var token = prompt.last!
        _ = try model.evaluate(prompt, in: cache)
        var best = Double.infinity
        for _ in 0..<32 {
            let start = nanoseconds()
            let logits = try model.decode(batch: [(cache: cache, token: token)])[0]
            best = min(best, Double(nanoseconds() - start) / 1e3)
            token = Int32(logits.indices.max { logits[$0] < logits[$1] }!)
        }
        return best
    }
}
