import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl classify AGENT TEXT`: every label with its probability.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Classify the text with every label's probability.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The classify agent.") var agent: String
    @OptionGroup var input: TextInput

    func run() throws {
        try reportingFailures {
            let text = try input.read()
            let reply = try connection.perform { try $0.classify(agent: agent, text: text) }
            if connection.json { try connection.printJSON(reply); return }
            var header = "\(reply.label) (\(String(format: "%.1f%%", reply.confidence * 100))) by \(reply.agent)"
            if let from = reply.escalatedFrom { header += ", escalated from \(from)" }
            if reply.needsEscalation { header += ", below the agent's threshold: needs escalation" }
            print(header)
            for score in reply.labels.sorted(by: { $0.probability > $1.probability }) {
                print(String(format: "  %-24@ %.4f", score.label as NSString, score.probability))
            }
        }
    }
}
