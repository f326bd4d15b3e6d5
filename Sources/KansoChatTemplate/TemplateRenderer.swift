// Runs parsed statements against a context, as Jinja2 does: the body of each loop iteration is a
// scope of its own (a `set` there is gone at the next iteration and after the loop; `namespace`
// is how a loop passes values out), `if` opens none, and names not found are undefined.

struct TemplateRenderer {
    /// Innermost last; the first holds the context and the template's top-level `set`s.
    private var scopes: [[String: TemplateValue]]
    private(set) var output = ""
    /// Loop iterations so far: a template comes with a model file, and one that loops for ever
    /// (nested `range`s) must end in an error, not hold up the daemon's manifest load.
    private var iterations = 0
    static let maximumIterations = 100_000
    /// The rendered text may not grow past this many bytes.
    static let maximumOutputBytes = 1 << 20

    enum Flow { case normal, breakLoop, continueLoop }

    init(context: [String: TemplateValue]) {
        scopes = [context]
    }

    func lookup(_ name: String) -> TemplateValue? {
        for scope in scopes.reversed() {
            if let value = scope[name] { return value }
        }
        return nil
    }

    mutating func render(_ nodes: [TemplateNode]) throws(TemplateError) -> Flow {
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
                try checkOutputSize(line: nil)
            case .output(let expression, let line):
                output += try evaluate(expression, line: line).text
                try checkOutputSize(line: line)
            case .branch(let branches, let otherwise, let line):
                var chosen = otherwise
                for branch in branches where try evaluate(branch.condition, line: line).isTrue {
                    chosen = branch.body
                    break
                }
                let flow = try render(chosen)
                if flow != .normal { return flow }
            case .loop(let loop):
                try run(loop)
            case .assign(let target, let expression, let line):
                try assign(try evaluate(expression, line: line), to: target, line: line)
            case .assignBlock(let name, let body, _):
                let saved = output
                output = ""
                _ = try render(body)
                let captured = output
                output = saved
                scopes[scopes.count - 1][name] = .string(captured)
            case .breakLoop(let line), .continueLoop(let line):
                guard scopes.count > 1 else {
                    throw TemplateError(.syntax, "{% break %} and {% continue %} belong inside a for loop", line: line)
                }
                if case .breakLoop = node { return .breakLoop }
                return .continueLoop
            }
        }
        return .normal
    }

    private func checkOutputSize(line: Int?) throws(TemplateError) {
        guard output.utf8.count <= Self.maximumOutputBytes else {
            throw TemplateError(.render, "the rendered text grew past \(Self.maximumOutputBytes) bytes", line: line)
        }
    }

    private mutating func assign(_ value: TemplateValue, to target: AssignmentTarget, line: Int) throws(TemplateError) {
        switch target {
        case .name(let name):
            scopes[scopes.count - 1][name] = value
        case .names(let names):
            let items = try Self.unpack(value, into: names.count, line: line)
            for (name, item) in zip(names, items) { scopes[scopes.count - 1][name] = item }
        case .attribute(let namespaceName, let attribute):
            guard case .namespace(let namespace)? = lookup(namespaceName) else {
                throw TemplateError(.render, "set \(namespaceName).\(attribute): only a namespace() takes attributes", line: line)
            }
            namespace.attributes[attribute] = value
        }
    }

    private static func unpack(_ value: TemplateValue, into count: Int, line: Int) throws(TemplateError) -> [TemplateValue] {
        guard let items = value.sequence, items.count == count else {
            throw TemplateError(.render, "cannot unpack \(value.typeName) \(value.representation) into \(count) names", line: line)
        }
        return items
    }

    /// The items a `for` walks: a list's items, a dictionary's keys, a string's characters.
    static func iterationItems(_ value: TemplateValue, line: Int) throws(TemplateError) -> [TemplateValue] {
        switch value {
        case .list(let items), .tuple(let items): return items
        case .dictionary(let dictionary): return dictionary.keys.map { .string($0) }
        case .string(let text): return text.unicodeScalars.map { .string(String($0)) }
        case .undefined: return []
        default: throw TemplateError(.render, "cannot iterate over \(value.typeName)", line: line)
        }
    }

    private mutating func run(_ loop: TemplateLoop) throws(TemplateError) {
        var items = try Self.iterationItems(try evaluate(loop.iterable, line: loop.line), line: loop.line)
        var bindings: [[String: TemplateValue]] = []
        // The loop filter runs first, so `loop.index` and `loop.length` count only what passes.
        var kept: [TemplateValue] = []
        for item in items {
            var scope: [String: TemplateValue] = [:]
            if loop.targets.count == 1 {
                scope[loop.targets[0]] = item
            } else {
                for (name, value) in zip(loop.targets, try Self.unpack(item, into: loop.targets.count, line: loop.line)) {
                    scope[name] = value
                }
            }
            if let condition = loop.condition {
                scopes.append(scope)
                let passes = try evaluate(condition, line: loop.line).isTrue
                scopes.removeLast()
                if !passes { continue }
            }
            kept.append(item)
            bindings.append(scope)
        }
        items = kept
        if items.isEmpty {
            _ = try render(loop.otherwise)
            return
        }
        for (position, var scope) in bindings.enumerated() {
            var info: TemplateDictionary = [
                "index": .int(position + 1), "index0": .int(position),
                "revindex": .int(items.count - position), "revindex0": .int(items.count - position - 1),
                "first": .bool(position == 0), "last": .bool(position == items.count - 1),
                "length": .int(items.count), "depth": .int(1), "depth0": .int(0),
            ]
            if position > 0 { info["previtem"] = items[position - 1] }
            if position + 1 < items.count { info["nextitem"] = items[position + 1] }
            scope["loop"] = .dictionary(info)
            iterations += 1
            guard iterations <= Self.maximumIterations else {
                throw TemplateError(.render, "the template ran more than \(Self.maximumIterations) loop iterations", line: loop.line)
            }
            scopes.append(scope)
            let flow = try render(loop.body)
            scopes.removeLast()
            if flow == .breakLoop { break }
        }
    }
}
