#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Binary operators and comparisons with Python's rules (Jinja2 hands them to Python): no mixing
/// of strings and numbers, integer arithmetic stays integral, `//` and `%` floor toward −∞.
enum TemplateArithmetic {
    static func apply(_ operation: BinaryOperator, _ left: TemplateValue, _ right: TemplateValue,
                      line: Int) throws(TemplateError) -> TemplateValue {
        if operation == .concatenate { return .string(left.text + right.text) }
        for operand in [left, right] {
            if case .undefined(let what) = operand {
                throw TemplateError(.render, "'\(what)' is undefined (in '\(operation.rawValue)')", line: line)
            }
        }
        func failure() -> TemplateError {
            TemplateError(.render, "unsupported operand types for \(operation.rawValue): \(left.typeName) and \(right.typeName)", line: line)
        }
        switch (operation, left, right) {
        case (.add, .string(let a), .string(let b)): return .string(a + b)
        case (.add, .list(let a), .list(let b)): return .list(a + b)
        case (.add, .tuple(let a), .tuple(let b)): return .tuple(a + b)
        case (.multiply, .string(let text), .int(let count)), (.multiply, .int(let count), .string(let text)):
            try checkRepetition(count, of: text.utf8.count, line: line)
            return .string(String(repeating: text, count: max(0, count)))
        case (.multiply, .list(let items), .int(let count)), (.multiply, .int(let count), .list(let items)):
            try checkRepetition(count, of: items.count, line: line)
            return .list(Array(repeating: items, count: max(0, count)).flatMap { $0 })
        case (.modulo, .string, _):
            throw TemplateError(.unsupported, "string formatting with %", line: line)
        default: break
        }
        guard let a = left.number, let b = right.number else { throw failure() }
        if case .int(let x) = integral(left), case .int(let y) = integral(right) {
            switch operation {
            case .add: return try checked(x.addingReportingOverflow(y), line: line)
            case .subtract: return try checked(x.subtractingReportingOverflow(y), line: line)
            case .multiply: return try checked(x.multipliedReportingOverflow(by: y), line: line)
            case .floorDivide, .modulo:
                guard y != 0 else { throw TemplateError(.render, "integer division or modulo by zero", line: line) }
                var quotient = x / y
                if (x % y != 0) && ((x < 0) != (y < 0)) { quotient -= 1 }
                return .int(operation == .floorDivide ? quotient : x - quotient * y)
            case .power where y >= 0:
                if x == 0 || x == 1 { return .int(y == 0 ? 1 : x) }
                if x == -1 { return .int(y % 2 == 0 ? 1 : -1) }
                // |x| ≥ 2 overflows within 63 steps.
                var result = 1
                for _ in 0..<y { result = try checked(result.multipliedReportingOverflow(by: x), line: line).intValue }
                return .int(result)
            default: break
            }
        }
        switch operation {
        case .add: return .double(a + b)
        case .subtract: return .double(a - b)
        case .multiply: return .double(a * b)
        case .divide:
            guard b != 0 else { throw TemplateError(.render, "division by zero", line: line) }
            return .double(a / b)
        case .floorDivide:
            guard b != 0 else { throw TemplateError(.render, "division by zero", line: line) }
            return .double((a / b).rounded(.down))
        case .modulo:
            guard b != 0 else { throw TemplateError(.render, "modulo by zero", line: line) }
            let remainder = fmod(a, b)
            return .double(remainder != 0 && (remainder < 0) != (b < 0) ? remainder + b : remainder)
        case .power: return .double(pow(a, b))
        default: throw failure()
        }
    }

    /// A repetition (`'ab' * n`) may not make more than a rendered text may hold.
    private static func checkRepetition(_ count: Int, of size: Int, line: Int) throws(TemplateError) {
        let (total, overflow) = max(0, count).multipliedReportingOverflow(by: max(1, size))
        guard !overflow, total <= TemplateRenderer.maximumOutputBytes else {
            throw TemplateError(.render, "a repetition of \(count) would exceed \(TemplateRenderer.maximumOutputBytes) bytes", line: line)
        }
    }

    /// Bools compute as 0 and 1 (Python's bool is an int).
    private static func integral(_ value: TemplateValue) -> TemplateValue {
        if case .bool(let flag) = value { return .int(flag ? 1 : 0) }
        return value
    }

    private static func checked(_ result: (partialValue: Int, overflow: Bool), line: Int) throws(TemplateError) -> TemplateValue {
        guard !result.overflow else { throw TemplateError(.render, "integer overflow", line: line) }
        return .int(result.partialValue)
    }

    static func compare(_ comparison: ComparisonOperator, _ left: TemplateValue, _ right: TemplateValue,
                        line: Int) throws(TemplateError) -> Bool {
        switch comparison {
        case .equal: return left == right
        case .notEqual: return left != right
        case .contains: return try contains(right, left, line: line)
        case .notContains: return !(try contains(right, left, line: line))
        default:
            let order = try ordering(left, right, line: line)
            switch comparison {
            case .less: return order < 0
            case .lessOrEqual: return order <= 0
            case .greater: return order > 0
            default: return order >= 0
            }
        }
    }

    /// −1, 0 or 1, for numbers, strings (by code point) and lists (item by item).
    private static func ordering(_ left: TemplateValue, _ right: TemplateValue, line: Int) throws(TemplateError) -> Int {
        switch (left, right) {
        case (.string(let a), .string(let b)):
            return a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) ? -1 : a == b ? 0 : 1
        case (.list(let a), .list(let b)), (.tuple(let a), .tuple(let b)):
            for (x, y) in zip(a, b) where x != y { return try ordering(x, y, line: line) }
            return a.count < b.count ? -1 : a.count == b.count ? 0 : 1
        default:
            guard let a = left.number, let b = right.number else {
                throw TemplateError(.render, "cannot order \(left.typeName) and \(right.typeName)", line: line)
            }
            return a < b ? -1 : a == b ? 0 : 1
        }
    }

    /// `needle in container`.
    static func contains(_ container: TemplateValue, _ needle: TemplateValue, line: Int) throws(TemplateError) -> Bool {
        switch container {
        case .string(let text):
            guard case .string(let part) = needle else {
                throw TemplateError(.render, "'in <string>' needs a string on the left, not \(needle.typeName)", line: line)
            }
            return part.isEmpty || text.unicodeScalars.firstRange(of: part.unicodeScalars) != nil
        case .list(let items), .tuple(let items): return items.contains(needle)
        case .dictionary(let dictionary):
            if case .string(let key) = needle { return dictionary[key] != nil }
            return false
        case .namespace(let namespace):
            if case .string(let key) = needle { return namespace.attributes[key] != nil }
            return false
        case .undefined(let what): throw TemplateError(.render, "'\(what)' is undefined (in 'in')", line: line)
        default: throw TemplateError(.render, "\(container.typeName) is not a container ('in')", line: line)
        }
    }
}

extension TemplateValue {
    fileprivate var intValue: Int {
        if case .int(let value) = self { return value }
        return 0
    }
}
