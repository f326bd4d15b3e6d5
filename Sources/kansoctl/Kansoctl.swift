import ArgumentParser
import Foundation
import KansoWire

/// `kansoctl`: shows and steers a running kansod over its socket, with the same typed client
/// third-party Swift programs use.
@main
struct Kansoctl: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kansoctl",
        abstract: "Show and steer the Kanso daemon.",
        discussion: "Finds the daemon through --socket, else $KANSO_SOCKET, else /run/kansod/kansod.sock.",
        version: KansoVersion.current,
        subcommands: [Status.self, Agents.self, Predict.self, Classify.self, Extract.self, Load.self, Unload.self,
                      Reload.self, Events.self, Top.self, Models.self, Pull.self]
    )
}

/// Options every subcommand takes.
struct ConnectionOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The daemon's socket (default: $KANSO_SOCKET, else /run/kansod/kansod.sock).", valueName: "path"))
    var socket: String?

    @Flag(name: .long, help: "Print the daemon's reply as JSON, for scripts.")
    var json = false

    var path: String { socket ?? SocketPath.resolve() }

    /// Connects, or exits with a clear message when no daemon answers.
    func client() throws -> KansoClient {
        do {
            return try KansoClient(socketPath: path)
        } catch {
            throw CommandFailure(message: error.description, code: 69)  // EX_UNAVAILABLE
        }
    }

    /// Runs a call, turning client errors into one clear line and a non-zero exit.
    func perform<T>(_ body: (KansoClient) throws -> T) throws -> T {
        let client = try client()
        do {
            return try body(client)
        } catch let error as VarlinkClientError {
            if case .remote(let remote) = error, remote.name == "io.kanso.Admin.PermissionDenied" {
                throw CommandFailure(message: "permission denied: \(remote.description)\n(run as root or as a member of the daemon's admin group)", code: 77)
            }
            throw CommandFailure(message: error.description, code: 1)
        }
    }

    /// Prints a reply as indented JSON.
    func printJSON<T: Encodable>(_ value: T) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(value), as: UTF8.self))
    }
}

/// A failure already explained to the user: the message goes to stderr, then the exit code.
struct CommandFailure: Error, CustomStringConvertible {
    var message: String
    var code: Int32
    var description: String { message }
}

extension ParsableCommand {
    /// Runs `body`, printing a `CommandFailure` as `kansoctl: message` and exiting with its code.
    func reportingFailures(_ body: () throws -> Void) throws {
        do {
            try body()
        } catch let failure as CommandFailure {
            FileHandle.standardError.write(Data("kansoctl: \(failure.message)\n".utf8))
            throw ExitCode(failure.code)
        }
    }
}
