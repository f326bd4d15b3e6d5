import CSystemd
import Glibc
import KansoWire
import KansoWorker
import KansoSystemd

/// `kansod worker`: one model's worker process. The supervisor starts it with its ends of one
/// socketpair per lane (WorkerLane, `--lanes N`), the main lane as fd 3 and the others on the
/// descriptors after it, and speaks `io.kanso.Worker` on them; the worker never outlives it.
enum WorkerMode {
    /// Serves the supervisor until it goes away; returns the exit code.
    static func run(descriptor: Int32, lanes laneCount: Int) -> Int32 {
        let lanes = (0..<laneCount).map { WorkerLane($0).descriptor(main: descriptor) }
        InheritedDescriptors.closeSockets(except: lanes)
        // Die with the supervisor even if it is killed before it can close our socket.
        _ = kanso_die_with_parent()
        if getppid() == 1 { return 1 }  // the supervisor died before prctl took effect
        KansoLogging.bootstrap(identifier: "kansod-worker", level: .info)
        for lane in lanes where fcntl(lane, F_GETFD) < 0 {
            Kansod.standardError("kansod worker: fd \(lane) is not open: workers are started by kansod, not by hand\n")
            return 64
        }
        return WorkerLoop(descriptors: lanes).run()
    }
}
