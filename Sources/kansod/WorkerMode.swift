import CSystemd
import Glibc
import KansoWorker
import KansoSystemd

/// `kansod worker`: one model's worker process. The supervisor starts it with its end of a
/// socketpair as fd 3 and speaks `io.kanso.Worker` on it; the worker never outlives it.
enum WorkerMode {
    /// Serves the supervisor until it goes away; returns the exit code.
    static func run(descriptor: Int32) -> Int32 {
        InheritedDescriptors.closeSockets(except: descriptor)
        // Die with the supervisor even if it is killed before it can close our socket.
        _ = kanso_die_with_parent()
        if getppid() == 1 { return 1 }  // the supervisor died before prctl took effect
        KansoLogging.bootstrap(identifier: "kansod-worker", level: .info)
        guard fcntl(descriptor, F_GETFD) >= 0 else {
            Kansod.standardError("kansod worker: fd \(descriptor) is not open: workers are started by kansod, not by hand\n")
            return 64
        }
        return WorkerLoop(descriptor: descriptor).run()
    }
}
