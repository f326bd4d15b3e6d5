import ArgumentParser
import KansoWire

/// `kansoctl agents`: every agent, its task, model and state.
struct Agents: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the agents the daemon serves.")

    @OptionGroup var connection: ConnectionOptions

    func run() throws {
        try reportingFailures {
            let reply = try connection.perform { try $0.agents() }
            if connection.json { try connection.printJSON(reply); return }
            print(Table.render(
                header: ["AGENT", "TASK", "STATE", "MODEL", "LABELS / DESCRIPTION"],
                rows: reply.agents.map { agent in
                    [agent.name, agent.task, agent.state, agent.model,
                     agent.labels?.joined(separator: ", ") ?? agent.description ?? ""]
                }))
        }
    }
}
