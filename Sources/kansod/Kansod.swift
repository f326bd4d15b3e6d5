import ArgumentParser
import Glibc
import KansoSystemd
import Logging

/// `kansod`: the Kanso supervisor (socket, agents, pool, systemd); `kansod worker` is the same
/// binary in worker mode, started by the supervisor, one per loaded model.
@main
struct Kansod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kansod",
        abstract: "Serve small language models to local programs over a Varlink Unix socket.",
        subcommands: [Serve.self, WorkerMode.self],
        defaultSubcommand: Serve.self
    )
}

/// Supervisor mode (the default).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve small language models to local programs over a Varlink Unix socket.",
        discussion: """
        Under systemd, start it with units/kansod.socket and units/kansod.service: it adopts the \
        socket systemd passes and reports readiness, status and liveness through sd_notify. \
        Stand-alone, it binds --socket itself. SIGHUP re-reads the manifests; SIGTERM drains and stops.
        """
    )

    @OptionGroup var options: DaemonOptions

    func run() async throws {
        let level = Logger.Level(rawValue: options.logLevel) ?? .info
        KansoLogging.bootstrap(identifier: "kansod", level: level)
        let supervisor = try Supervisor(options: options)
        let code = await supervisor.run()
        if code != 0 { throw ExitCode(code) }
    }
}
