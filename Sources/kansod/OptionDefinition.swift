/// One `--name` of kansod's command line: the field of `DaemonOptions` it sets, how its value is
/// read, and its line of help. The table of them is `DaemonOptions.definitions`.
///
/// kansod parses its own command line instead of using swift-argument-parser (which kansoctl
/// keeps): the parser imports FoundationEssentials, whose library was 2 MiB of the idle
/// daemon's 20 MiB resident memory, and of every worker's, for a dozen options.
struct OptionDefinition: Sendable {
    enum Value: Sendable {
        /// `--name VALUE`, a string kept as given (a path, a size, a group name).
        case text(WritableKeyPath<DaemonOptions, String?> & Sendable)
        /// `--name VALUE`, a string with a default.
        case textWithDefault(WritableKeyPath<DaemonOptions, String> & Sendable)
        /// `--name N`, a decimal integer with a default.
        case integer(WritableKeyPath<DaemonOptions, Int> & Sendable)
        /// `--name N`, a decimal integer, unset by default.
        case optionalInteger(WritableKeyPath<DaemonOptions, Int?> & Sendable)
        /// `--name X`, a decimal number (seconds).
        case number(WritableKeyPath<DaemonOptions, Double> & Sendable)
        /// `--name` sets it, `--no-name` clears it.
        case toggle(WritableKeyPath<DaemonOptions, Bool> & Sendable)
    }

    /// Without the leading dashes: "memory-budget".
    let name: String
    /// What the value is called in the help ("path", "size"); unused for a toggle.
    let valueName: String
    let help: String
    let value: Value

    /// An option with a value: `OptionDefinition("socket", "path", .text(\.socket), help: ...)`.
    init(_ name: String, _ valueName: String, _ value: Value, help: String) {
        self.name = name
        self.valueName = valueName
        self.value = value
        self.help = help
    }

    /// A toggle: `OptionDefinition("spare-worker", .toggle(\.spareWorker), help: ...)`.
    init(_ name: String, _ value: Value, help: String) {
        self.init(name, "", value, help: help)
    }

    var takesValue: Bool {
        if case .toggle = value { return false }
        return true
    }

    /// How the option appears in the help: "--socket <path>", "--[no-]packed-cache".
    var synopsis: String {
        if case .toggle = value { return "--[no-]\(name)" }
        return "--\(name) <\(valueName)>"
    }

    /// Sets the field from the text that followed the option.
    func apply(_ text: String, to options: inout DaemonOptions) throws(CommandLineError) {
        switch value {
        case .text(let field):
            options[keyPath: field] = text
        case .textWithDefault(let field):
            options[keyPath: field] = text
        case .integer(let field):
            options[keyPath: field] = try integer(text)
        case .optionalInteger(let field):
            options[keyPath: field] = try integer(text)
        case .number(let field):
            guard let number = Double(text), number.isFinite else {
                throw CommandLineError("--\(name): expected a number, got \"\(text)\"")
            }
            options[keyPath: field] = number
        case .toggle:
            throw CommandLineError("--\(name) takes no value, got \"\(text)\"")
        }
    }

    /// Sets or clears a toggle.
    func set(_ on: Bool, in options: inout DaemonOptions) {
        if case .toggle(let field) = value { options[keyPath: field] = on }
    }

    private func integer(_ text: String) throws(CommandLineError) -> Int {
        guard let number = Int(text) else { throw CommandLineError("--\(name): expected an integer, got \"\(text)\"") }
        return number
    }
}

/// A command line kansod cannot run with: what was wrong, naming the option and the value.
struct CommandLineError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
