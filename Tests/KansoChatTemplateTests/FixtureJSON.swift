import Foundation
import KansoChatTemplate
import KansoTestSupport

/// The chat template fixtures (Fixtures/, written by scripts/chat-template-goldens.py) read as
/// template values. Foundation's JSON reader forgets the order of an object's keys, which tojson
/// must keep, so this small reader keeps it.
enum Fixtures {
    static let directory = SharedData.repositoryRoot.appendingPathComponent("Tests/KansoChatTemplateTests/Fixtures")

    static func text(_ relativePath: String) -> String {
        (try? String(contentsOf: directory.appendingPathComponent(relativePath), encoding: .utf8)) ?? ""
    }

    static func json(_ relativePath: String) -> TemplateValue {
        var reader = JSONReader(Array(text(relativePath).unicodeScalars))
        return (try? reader.value()) ?? .none
    }
}

extension TemplateValue {
    subscript(key: String) -> TemplateValue? {
        if case .dictionary(let dictionary) = self { return dictionary[key] }
        return nil
    }

    var items: [TemplateValue] {
        if case .list(let items) = self { return items }
        return []
    }

    var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}

struct JSONReader {
    struct Failure: Error { let position: Int }
    let scalars: [Unicode.Scalar]
    var position = 0

    init(_ scalars: [Unicode.Scalar]) { self.scalars = scalars }

    mutating func skipSpace() {
        while position < scalars.count, " \n\r\t".unicodeScalars.contains(scalars[position]) { position += 1 }
    }

    mutating func expect(_ scalar: Unicode.Scalar) throws {
        skipSpace()
        guard position < scalars.count, scalars[position] == scalar else { throw Failure(position: position) }
        position += 1
    }

    mutating func value() throws -> TemplateValue {
        skipSpace()
        guard position < scalars.count else { throw Failure(position: position) }
        switch scalars[position] {
        case "{":
            position += 1
            var dictionary = TemplateDictionary()
            skipSpace()
            if scalars[position] == "}" { position += 1; return .dictionary(dictionary) }
            repeat {
                skipSpace()
                let key = try string()
                try expect(":")
                dictionary[key] = try value()
                skipSpace()
            } while try separator(closing: "}")
            return .dictionary(dictionary)
        case "[":
            position += 1
            var items: [TemplateValue] = []
            skipSpace()
            if scalars[position] == "]" { position += 1; return .list(items) }
            repeat {
                items.append(try value())
                skipSpace()
            } while try separator(closing: "]")
            return .list(items)
        case "\"": return .string(try string())
        case "t": position += 4; return .bool(true)
        case "f": position += 5; return .bool(false)
        case "n": position += 4; return .none
        default:
            let start = position
            while position < scalars.count, "+-0123456789.eE".unicodeScalars.contains(scalars[position]) { position += 1 }
            let text = String(String.UnicodeScalarView(scalars[start..<position]))
            if let integer = Int(text) { return .int(integer) }
            guard let number = Double(text) else { throw Failure(position: start) }
            return .double(number)
        }
    }

    /// After an item: true for ",", false for the closing bracket.
    mutating func separator(closing: Unicode.Scalar) throws -> Bool {
        guard position < scalars.count else { throw Failure(position: position) }
        position += 1
        if scalars[position - 1] == "," { return true }
        guard scalars[position - 1] == closing else { throw Failure(position: position - 1) }
        return false
    }

    mutating func string() throws -> String {
        guard scalars[position] == "\"" else { throw Failure(position: position) }
        position += 1
        var text = String.UnicodeScalarView()
        var pendingHighSurrogate: UInt32?
        while position < scalars.count {
            let scalar = scalars[position]
            position += 1
            if scalar == "\"" { return String(text) }
            guard scalar == "\\" else { text.append(scalar); continue }
            let escape = scalars[position]
            position += 1
            switch escape {
            case "n": text.append("\n")
            case "t": text.append("\t")
            case "r": text.append("\r")
            case "b": text.append("\u{08}")
            case "f": text.append("\u{0C}")
            case "u":
                let value = UInt32(String(String.UnicodeScalarView(scalars[position..<position + 4])), radix: 16)!
                position += 4
                if (0xD800..<0xDC00).contains(value) {
                    pendingHighSurrogate = value
                } else if let high = pendingHighSurrogate, (0xDC00..<0xE000).contains(value) {
                    text.append(Unicode.Scalar(0x10000 + ((high - 0xD800) << 10) + (value - 0xDC00))!)
                    pendingHighSurrogate = nil
                } else {
                    text.append(Unicode.Scalar(value)!)
                }
            default: text.append(escape)
            }
        }
        throw Failure(position: position)
    }
}
