import ArgumentParser
import KansoWire

/// `kansoctl load AGENT`: load the agent's model now.
struct Load: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load an agent's model now, ahead of requests.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The agent whose model to load.") var agent: String

    func run() throws {
        try reportingFailures {
            let model = try connection.perform { try $0.load(agent: agent) }
            if connection.json { try connection.printJSON(["model": model]) } else { print("loaded \(model)") }
        }
    }
}

/// `kansoctl unload AGENT`: end the agent's model's worker now.
struct Unload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Unload an agent's model now (and lift a quarantine).")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The agent whose model to unload.") var agent: String

    func run() throws {
        try reportingFailures {
            let unloaded = try connection.perform { try $0.unload(agent: agent) }
            if connection.json { try connection.printJSON(["unloaded": unloaded]) } else {
                print(unloaded ? "unloaded \(agent)'s model" : "\(agent)'s model was not loaded or is busy")
            }
        }
    }
}
