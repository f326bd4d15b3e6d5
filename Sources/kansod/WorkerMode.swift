import ArgumentParser
import CSystemd
import Glibc
import KansoPool
import KansoSystemd

/// `kansod worker`: one model's worker process. The supervisor starts it with its end of a
/// socketpair as fd 3 and speaks `io.kanso.Worker` on it; the worker never outlives it.
struct WorkerMode: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "worker",
        abstract: "Run as a worker for the supervisor (started by kansod itself, not by hand).",
        shouldDisplay: false
    )

    @Option(name: .long, help: "The socketpair descriptor the supervisor passed.")
    var descriptor: Int32 = 3

    func run() throws {
        // Die with the supervisor even if it is killed before it can close our socket.
        _ = kanso_die_with_parent()
        if getppid() == 1 { throw ExitCode(1) }  // the supervisor died before prctl took effect
        KansoLogging.bootstrap(identifier: "kansod-worker", level: .info)
        guard fcntl(descriptor, F_GETFD) >= 0 else {
            throw ValidationError("fd \(descriptor) is not open: workers are started by kansod, not by hand")
        }
        let code = WorkerLoop(descriptor: descriptor).run()
        if code != 0 { throw ExitCode(code) }
    }
}
