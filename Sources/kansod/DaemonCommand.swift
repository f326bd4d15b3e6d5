import KansoWire

/// kansod's command line: `kansod [serve] [OPTIONS]` (the supervisor), `kansod worker
/// [--descriptor N] [--lanes N]` (started by the supervisor itself), `--help`, `--version`.
/// Options are `--name VALUE` or `--name=VALUE`; toggles are `--name` and `--no-name`.
enum DaemonCommand {
    case serve(DaemonOptions)
    case worker(descriptor: Int32, lanes: Int)
    case help
    case version

    /// Reads the arguments after the program name.
    static func parse(_ arguments: [String]) throws(CommandLineError) -> DaemonCommand {
        var rest = arguments[...]
        switch rest.first {
        case "worker":
            return try parseWorker(rest.dropFirst())
        case "serve":
            rest = rest.dropFirst()
        default:
            break
        }
        var options = DaemonOptions()
        while let argument = rest.popFirst() {
            if argument == "--help" || argument == "-h" { return .help }
            if argument == "--version" { return .version }
            guard argument.hasPrefix("--") else {
                throw CommandLineError("unexpected argument \"\(argument)\": kansod takes only options (kansod --help lists them)")
            }
            let (name, attached) = split(argument)
            if let definition = DaemonOptions.definitions.first(where: { $0.name == name }) {
                if definition.takesValue {
                    guard let value = attached ?? rest.popFirst() else {
                        throw CommandLineError("--\(name) needs a value: \(definition.synopsis)")
                    }
                    try definition.apply(value, to: &options)
                } else if let attached {
                    try definition.apply(attached, to: &options)  // throws: a toggle takes no value
                } else {
                    definition.set(true, in: &options)
                }
            } else if name.hasPrefix("no-"),
                      let definition = DaemonOptions.definitions.first(where: { $0.name == name.dropFirst(3) && !$0.takesValue }) {
                guard attached == nil else { throw CommandLineError("--\(name) takes no value, got \"\(attached!)\"") }
                definition.set(false, in: &options)
            } else {
                throw CommandLineError("unknown option --\(name) (kansod --help lists them)")
            }
        }
        try options.validate()
        return .serve(options)
    }

    private static func parseWorker(_ arguments: ArraySlice<String>) throws(CommandLineError) -> DaemonCommand {
        var rest = arguments
        var descriptor: Int32 = 3
        var lanes = 1
        while let argument = rest.popFirst() {
            let (name, attached) = split(argument)
            guard argument.hasPrefix("--"), name == "descriptor" || name == "lanes" else {
                throw CommandLineError("kansod worker: unexpected argument \"\(argument)\" (it takes only --descriptor N and --lanes N)")
            }
            let text = attached ?? rest.popFirst()
            if name == "lanes" {
                guard let text, let value = Int(text), (1...WorkerLane.maximumCount).contains(value) else {
                    throw CommandLineError("kansod worker --lanes: expected 1 to \(WorkerLane.maximumCount)")
                }
                lanes = value
            } else {
                guard let text, let value = Int32(text), value >= 0 else {
                    throw CommandLineError("kansod worker --descriptor: expected a file descriptor number")
                }
                descriptor = value
            }
        }
        return .worker(descriptor: descriptor, lanes: lanes)
    }

    /// "--name=value" → ("name", "value"); "--name" → ("name", nil).
    private static func split(_ argument: String) -> (name: String, value: String?) {
        let body = argument.dropFirst(2)
        guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
        return (String(body[..<equals]), String(body[body.index(after: equals)...]))
    }

    /// The help text: what kansod is, how to run it, each option wrapped under its synopsis.
    static var helpText: String {
        var text = """
        OVERVIEW: Serve small language models to local programs over a Varlink Unix socket.

        Under systemd, start it with units/kansod.socket and units/kansod.service: it adopts the
        socket systemd passes and reports readiness, status and liveness through sd_notify.
        Stand-alone, it binds --socket itself. SIGHUP re-reads the manifests; SIGTERM drains and
        stops. `kansod worker` is the same binary as one model's worker process, which the daemon
        starts itself.

        USAGE: kansod [serve] [<options>]

        OPTIONS:

        """
        let rows = DaemonOptions.definitions.map { ($0.synopsis, $0.help) } + [
            ("--version", "Print the version and exit."),
            ("-h, --help", "Show this help and exit."),
        ]
        for (synopsis, help) in rows {
            text += "  \(synopsis)\n"
            for line in wrap(help, width: 74) { text += "        \(line)\n" }
        }
        return text
    }

    private static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                lines.append(line)
                line = ""
            }
            line += line.isEmpty ? String(word) : " " + word
        }
        if !line.isEmpty { lines.append(line) }
        return lines
    }
}
