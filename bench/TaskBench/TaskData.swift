// The labelled data of bench/tasks (JSON Lines, README there): classification tickets and
// extraction texts, read as the harness needs them.

import Foundation

struct ClassifyItem {
    let text: String
    let label: String
}

struct ExtractItem {
    let text: String
    /// Field → expected value; a field the text does not contain is absent.
    let value: [String: String]
    /// Field → other answers graded right.
    let alsoAccept: [String: [String]]

    /// As JSON in the key order of the extraction schema (few-shot answers); a field the text
    /// lacks is left out, or written as "" with `emptyForAbsent`.
    func answerJSON(fields: [String], emptyForAbsent: Bool = false) -> String {
        let members = fields.compactMap { field -> String? in
            guard let value = value[field] ?? (emptyForAbsent ? "" : nil) else { return nil }
            let data = try! JSONSerialization.data(withJSONObject: [value], options: [.withoutEscapingSlashes])
            let quoted = String(decoding: data, as: UTF8.self).dropFirst().dropLast()
            return "\"\(field)\":\(quoted)"
        }
        return "{" + members.joined(separator: ",") + "}"
    }
}

enum TaskDataError: Error, CustomStringConvertible {
    case unreadable(path: String, reason: String)
    case badLine(path: String, line: Int, reason: String)

    var description: String {
        switch self {
        case let .unreadable(path, reason): return "cannot read \(path): \(reason)"
        case let .badLine(path, line, reason): return "\(path):\(line): \(reason)"
        }
    }
}

enum TaskData {
    static func objects(_ path: String) throws -> [(line: Int, object: [String: Any])] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw TaskDataError.unreadable(path: path, reason: "\(error)")
        }
        var result: [(Int, [String: Any])] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw TaskDataError.badLine(path: path, line: index + 1, reason: "not a JSON object")
            }
            result.append((index + 1, object))
        }
        return result
    }

    static func classifyItems(_ path: String, labels: [String]) throws -> [ClassifyItem] {
        try objects(path).map { line, object in
            guard let text = object["text"] as? String, let label = object["label"] as? String else {
                throw TaskDataError.badLine(path: path, line: line, reason: "needs \"text\" and \"label\" strings")
            }
            guard labels.contains(label) else {
                throw TaskDataError.badLine(path: path, line: line, reason: "label \"\(label)\" is not one of \(labels)")
            }
            return ClassifyItem(text: text, label: label)
        }
    }

    static func extractItems(_ path: String) throws -> [ExtractItem] {
        try objects(path).map { line, object in
            guard let text = object["text"] as? String, let value = object["value"] as? [String: String] else {
                throw TaskDataError.badLine(path: path, line: line, reason: "needs \"text\" and a \"value\" object of strings")
            }
            let also = object["also_accept"] as? [String: [String]] ?? [:]
            return ExtractItem(text: text, value: value, alsoAccept: also)
        }
    }
}
