import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl top`: the status, refreshed live.
struct Top: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show the daemon's status live, refreshed every second.")

    @OptionGroup var connection: ConnectionOptions
    @Option(name: .long, help: "Seconds between refreshes.") var interval: Double = 1
    @Option(name: .long, help: "Stop after N refreshes.") var count: Int?

    func run() throws {
        try reportingFailures {
            var shown = 0
            while count.map({ shown < $0 }) ?? true {
                let status = try connection.perform { try $0.status() }
                print("\u{1B}[H\u{1B}[2J" + Status.render(status))
                fflush(stdout)
                shown += 1
                usleep(useconds_t(max(0.1, interval) * 1_000_000))
            }
        }
    }
}
