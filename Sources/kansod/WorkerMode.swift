import CSystemd
import Glibc
import KansoWire
import KansoWorker
import KansoSystemd

/// `kansod worker`: one model's worker process. The supervisor starts it with its ends of two
/// socketpairs, the main lane as fd 3 and the interjection lane as fd 4 (WorkerLane), and speaks
/// `io.kanso.Worker` on them; the worker never outlives it.
enum WorkerMode {
    /// Serves the supervisor until it goes away; returns the exit code.
    static func run(descriptor: Int32) -> Int32 {
        let interjection = WorkerLane.interjection.descriptor(main: descriptor)
        InheritedDescriptors.closeSockets(except: descriptor, interjection)
        // Die with the supervisor even if it is killed before it can close our socket.
        _ = kanso_die_with_parent()
        if getppid() == 1 { return 1 }  // the supervisor died before prctl took effect
        KansoLogging.bootstrap(identifier: "kansod-worker", level: .info)
        guard fcntl(descriptor, F_GETFD) >= 0 else {
            Kansod.standardError("kansod worker: fd \(descriptor) is not open: workers are started by kansod, not by hand\n")
            return 64
        }
        // A worker started by hand with one socket has no interjection lane.
        let hasInterjectionLane = fcntl(interjection, F_GETFD) >= 0
        return WorkerLoop(descriptor: descriptor, interjectionDescriptor: hasInterjectionLane ? interjection : nil).run()
    }
}
