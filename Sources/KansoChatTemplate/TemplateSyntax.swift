// The parsed template: statements (text, output, if, for, set, break/continue) holding
// expressions. Everything here is a construct the renderer implements; the parser refuses the
// rest by name (TemplateParser.swift).

indirect enum TemplateNode: Sendable {
    case text(String)
    /// `{{ expression }}`
    case output(TemplateExpression, line: Int)
    /// `{% if %}`, each `{% elif %}`, then the `{% else %}` body.
    case branch([(condition: TemplateExpression, body: [TemplateNode])], otherwise: [TemplateNode], line: Int)
    /// `{% for a, b in items if condition %} ... {% else %} ... {% endfor %}`
    case loop(TemplateLoop)
    /// `{% set name = value %}`, `{% set ns.attribute = value %}`, `{% set a, b = value %}`
    case assign(AssignmentTarget, TemplateExpression, line: Int)
    /// `{% set name %}body{% endset %}`: the rendered body as a string.
    case assignBlock(name: String, body: [TemplateNode], line: Int)
    case breakLoop(line: Int)
    case continueLoop(line: Int)
}

struct TemplateLoop: Sendable {
    var targets: [String]
    var iterable: TemplateExpression
    var condition: TemplateExpression?
    var body: [TemplateNode]
    var otherwise: [TemplateNode]
    var line: Int
}

enum AssignmentTarget: Sendable {
    case name(String)
    case names([String])
    case attribute(namespace: String, attribute: String)
}

indirect enum TemplateExpression: Sendable {
    case literal(TemplateValue)
    case name(String)
    case list([TemplateExpression])
    case tuple([TemplateExpression])
    case dictionary([(key: TemplateExpression, value: TemplateExpression)])
    case attribute(TemplateExpression, String)
    case item(TemplateExpression, TemplateExpression)
    case slice(TemplateExpression, start: TemplateExpression?, stop: TemplateExpression?, step: TemplateExpression?)
    /// A global function (`namespace(...)`, `raise_exception(...)`) or a method (`text.strip()`).
    case call(TemplateExpression, Arguments)
    /// `value | name(arguments)`
    case filter(TemplateExpression, name: String, Arguments)
    /// `value is [not] name(arguments)`
    case test(TemplateExpression, name: String, Arguments, negated: Bool)
    case not(TemplateExpression)
    case negate(TemplateExpression)
    case binary(BinaryOperator, TemplateExpression, TemplateExpression)
    /// `a < b <= c`: each comparison with the operand after it, all of which must hold.
    case compare(TemplateExpression, [(ComparisonOperator, TemplateExpression)])
    /// `a if condition else b` (`b` may be absent: then undefined).
    case conditional(TemplateExpression, condition: TemplateExpression, otherwise: TemplateExpression?)
}

struct Arguments: Sendable {
    var positional: [TemplateExpression] = []
    var named: [(name: String, value: TemplateExpression)] = []
}

enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/", floorDivide = "//", modulo = "%", power = "**"
    case concatenate = "~", and, or
}

enum ComparisonOperator: String, Sendable {
    case equal = "==", notEqual = "!=", less = "<", lessOrEqual = "<=", greater = ">", greaterOrEqual = ">="
    case contains = "in", notContains = "not in"
}
