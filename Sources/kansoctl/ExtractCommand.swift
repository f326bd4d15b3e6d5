import ArgumentParser
import KansoWire

/// `kansoctl extract AGENT TEXT`: a JSON value valid against the agent's schema.
struct Extract: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Extract a JSON value valid against the agent's schema.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The extract agent.") var agent: String
    @OptionGroup var input: TextInput

    func run() throws {
        try reportingFailures {
            let text = try input.read()
            let reply = try connection.perform { try $0.extract(agent: agent, text: text) }
            if connection.json { try connection.printJSON(reply) } else { try connection.printJSON(reply.value) }
        }
    }
}
