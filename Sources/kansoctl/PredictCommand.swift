import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl predict AGENT TEXT`: next words (--words N) or a streamed continuation.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Predict the next words, or continue the text.")

    @OptionGroup var connection: ConnectionOptions
    @Argument(help: "The predict agent.") var agent: String
    @OptionGroup var input: TextInput
    @Option(name: .long, help: "Give the N most likely next whole words instead of a continuation.") var words: Int?
    @Option(name: .long, help: "Longest continuation, in tokens (default: the agent's max_tokens).") var maxTokens: Int?
    @Flag(name: .long, help: "Print the continuation when it is complete instead of as it is generated.") var noStream = false

    func run() throws {
        try reportingFailures {
            let text = try input.read()
            if let words {
                let reply = try connection.perform { try $0.nextWords(agent: agent, text: text, count: words) }
                if connection.json { try connection.printJSON(reply); return }
                for word in reply.words ?? [] { print(String(format: "%-20@ %.4f", word.word as NSString, word.probability)) }
                return
            }
            if connection.json || noStream {
                let reply = try connection.perform { try $0.continuation(agent: agent, text: text, maxTokens: maxTokens) }
                if connection.json { try connection.printJSON(reply) } else { print(reply.text ?? "") }
                return
            }
            _ = try connection.perform { client in
                try client.continuation(agent: agent, text: text, maxTokens: maxTokens) { piece in
                    FileHandle.standardOutput.write(Data(piece.utf8))
                    return true
                }
            }
            print()
        }
    }
}
