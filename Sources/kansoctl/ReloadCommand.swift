import ArgumentParser
import KansoWire

/// `kansoctl reload`: the daemon re-reads its manifests (as on SIGHUP); systemd's ExecReload.
struct Reload: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Re-read the agent manifests.")

    @OptionGroup var connection: ConnectionOptions

    @Flag(name: .long, help: "Return only when the reload is complete (the reply comes after it; kept for ExecReload=).")
    var wait = false

    func run() throws {
        try reportingFailures {
            let reply = try connection.perform { try $0.reload() }
            if connection.json { try connection.printJSON(reply); return }
            var summary = "reloaded: \(reply.agents) agents"
            if !reply.added.isEmpty { summary += ", added \(reply.added.joined(separator: ", "))" }
            if !reply.removed.isEmpty { summary += ", removed \(reply.removed.joined(separator: ", "))" }
            print(summary)
            for problem in reply.problems {
                print("  rejected \(problem.file)" + (problem.key.map { ": key '\($0)'" } ?? "") + ": \(problem.message)")
            }
        }
    }
}
