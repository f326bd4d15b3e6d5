import Glibc
import KansoSystemd
import KansoWire
import Logging

/// `kansod`: the Kanso supervisor (socket, agents, pool, systemd); `kansod worker` is the same
/// binary in worker mode, started by the supervisor, one per loaded model.
@main
enum Kansod {
    static func main() async {
        let command: DaemonCommand
        do {
            command = try DaemonCommand.parse(Array(CommandLine.arguments.dropFirst()))
        } catch {
            // EX_USAGE (64), as sysexits.h and swift-argument-parser have it.
            standardError("kansod: \(error)\n")
            exit(64)
        }
        switch command {
        case .help:
            print(DaemonCommand.helpText, terminator: "")
        case .version:
            print("kansod \(KansoVersion.current)")
        case .worker(let descriptor, let lanes):
            exit(WorkerMode.run(descriptor: descriptor, lanes: lanes))
        case .serve(let options):
            KansoLogging.bootstrap(identifier: "kansod", level: Logger.Level(rawValue: options.logLevel) ?? .info)
            let code = await Supervisor(options: options).run()
            exit(code)
        }
    }

    static func standardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in _ = write(STDERR_FILENO, bytes.baseAddress, bytes.count) }
    }
}
