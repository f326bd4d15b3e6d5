import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl events`: the pool's events as they happen (io.kanso.Admin.Watch).
struct Events: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stream the pool's events: state changes, evictions.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Stop after N events.") var count: Int?

    func run() throws {
        try reportingFailures {
            var seen = 0
            let formatter = ISO8601DateFormatter()
            try connection.perform { client in
                try client.watch { event in
                    if connection.json {
                        try? connection.printJSON(event)
                    } else {
                        let time = formatter.string(from: Date(timeIntervalSince1970: event.time))
                        let change = event.from.map { "\($0) → \(event.to ?? "?")" } ?? event.kind.rawValue
                        print("\(time)  \((event.model as NSString).lastPathComponent)  \(change)  \(event.reason)")
                    }
                    fflush(stdout)
                    seen += 1
                    return count.map { seen < $0 } ?? true
                }
            }
        }
    }
}
