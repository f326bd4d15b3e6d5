import KansoConcurrency
import Glibc
import KansoWire
import KansoSystemd

/// One worker: the `kansod` binary started in worker mode with its ends of one socketpair per
/// lane (WorkerLane: the main lane as fd 3, the others after it, `--lanes N`), a clean environment
/// (no NOTIFY_SOCKET, WATCHDOG_*, LISTEN_*) and default signal handling.
/// Ending it returns its memory to the system for certain.
final class WorkerProcess: PoolWorker, @unchecked Sendable {  // `exitStatus`, `exitWaiters` and the reaping guarded by `lock`
    let pid: pid_t
    /// One connection per lane; the first is the main lane.
    let connections: [WorkerConnection]
    private let lock = Lock()
    private var exitStatus: WorkerExit?
    private var exitWaiters: [CheckedContinuation<WorkerExit, Never>] = []

    private static let spawner = LastingThread(name: "kanso-spawner")

    var laneCount: Int { connections.count }

    /// Starts a worker with `lanes` lanes. `arguments` follow the executable (e.g. ["worker"]);
    /// `--lanes N` is added.
    init(executable: String = ProcessWorkerLauncher.ownExecutable, arguments: [String] = ["worker"], lanes: Int = 1) throws {
        let lanes = min(max(1, lanes), WorkerLane.maximumCount)
        var pairs: [[Int32]] = []
        for _ in 0..<lanes {
            var pair: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 else {
                let code = errno
                for pair in pairs { close(pair[0]); close(pair[1]) }
                throw WorkerSpawnError.system(call: "socketpair", errno: code)
            }
            // The child's end moves above the lanes' targets (3 …), so that no dup2 below
            // overwrites an end not yet duplicated.
            let moved = fcntl(pair[1], F_DUPFD_CLOEXEC, 3 + Int32(lanes))
            close(pair[1])
            pair[1] = moved
            pairs.append(pair)
            guard moved >= 0 else {
                let code = errno
                for pair in pairs { close(pair[0]); if pair[1] >= 0 { close(pair[1]) } }
                throw WorkerSpawnError.system(call: "fcntl F_DUPFD", errno: code)
            }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        // dup2 onto 3… clears close-on-exec for the child's copies; the parent's ends stay CLOEXEC.
        for (index, pair) in pairs.enumerated() {
            posix_spawn_file_actions_adddup2(&actions, pair[1], WorkerLane(index).descriptor(main: 3))
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The supervisor ignores SIGHUP, SIGTERM, SIGINT and SIGPIPE (it handles them itself); ignored
        // dispositions survive exec, so the worker gets the defaults back, and an empty mask.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for number in [SIGHUP, SIGTERM, SIGINT, SIGPIPE, SIGCHLD] { sigaddset(&defaults, number) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var mask = sigset_t()
        sigemptyset(&mask)
        posix_spawnattr_setsigmask(&attributes, &mask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let environment = WorkerEnvironment.clean(ProcessEnvironment.current).map { "\($0.key)=\($0.value)" }
        let argv = [executable] + arguments + ["--lanes", "\(lanes)"]
        var child: pid_t = 0
        // Spawned from a thread that never ends: the worker dies with the thread that spawned it
        // (PR_SET_PDEATHSIG), and the pool threads callers run on are retired when idle.
        let result = Self.spawner.run {
            withCStrings(argv) { argvPointers in
                withCStrings(environment) { environmentPointers in
                    posix_spawn(&child, executable, &actions, &attributes, argvPointers, environmentPointers)
                }
            }
        }
        for pair in pairs { close(pair[1]) }
        guard result == 0 else {
            for pair in pairs { close(pair[0]) }
            throw WorkerSpawnError.system(call: "posix_spawn \(executable)", errno: result)
        }
        pid = child
        connections = pairs.map { WorkerConnection(descriptor: $0[0]) }
        DetachedThread.start(name: "kanso-reaper", stackBytes: 256 << 10) { [self] in reap() }
    }

    /// The main lane's connection.
    var connection: WorkerConnection { connections[0] }

    /// Waits for the process to end (any thread may call it; the reaper thread collects it).
    func waitForExit() async -> WorkerExit {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let exitStatus {
                lock.unlock()
                continuation.resume(returning: exitStatus)
                return
            }
            exitWaiters.append(continuation)
            lock.unlock()
        }
    }

    var exit: WorkerExit? {
        lock.lock(); defer { lock.unlock() }
        return exitStatus
    }

    var isGone: Bool { connection.isClosed }

    func send(_ request: WorkerRequest, on lane: WorkerLane) async -> AsyncThrowingStream<VarlinkReply, Error> {
        await channel(lane).send(request)
    }

    func cancel(on lane: WorkerLane) { channel(lane).cancel() }

    func suspend() { signal(SIGSTOP) }

    func resume() { signal(SIGCONT) }

    /// Sends `number` to the process while it has not been collected: the reaper collects it
    /// under the same lock, so `pid` cannot name another process by then. Never this process or
    /// a group (pid 0, -1).
    private func signal(_ number: Int32) {
        lock.lock(); defer { lock.unlock() }
        guard exitStatus == nil, pid > 1, pid != getpid() else { return }
        kill(pid, number)
    }

    /// The lane's connection; a lane the worker was not started with is the main lane's (the
    /// pool never leases one).
    private func channel(_ lane: WorkerLane) -> WorkerConnection {
        connections.indices.contains(lane.index) ? connections[lane.index] : connection
    }

    /// Ends the worker: closes its stream (it exits by itself), then SIGKILL after `grace`.
    func terminate(grace: Duration = .seconds(2)) async -> WorkerExit {
        for connection in connections { connection.shutdown() }
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await self.waitForExit(); return true }
            group.addTask {
                do { try await Task.sleep(for: grace) } catch { return true }
                return false
            }
            if await group.next() == false { signal(SIGKILL) }  // the grace ran out first
            group.cancelAll()
        }
        return await waitForExit()
    }

    private func reap() {
        // Waits for the end without collecting it (WNOWAIT): the ended process keeps its pid until
        // it is collected below, under the lock `signal` takes.
        var info = siginfo_t()
        var waited: Int32
        repeat { waited = waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) } while waited < 0 && errno == EINTR
        var status: Int32 = 0
        var result: pid_t
        lock.lock()
        repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
        let outcome: WorkerExit
        // WIFSIGNALED / WTERMSIG / WEXITSTATUS, spelled out (they are C macros).
        if status & 0x7f != 0 && status & 0x7f != 0x7f { outcome = .signalled(status & 0x7f) } else { outcome = .exited((status >> 8) & 0xff) }
        exitStatus = outcome
        let waiters = exitWaiters
        exitWaiters = []
        lock.unlock()
        for waiter in waiters { waiter.resume(returning: outcome) }
    }
}

enum WorkerSpawnError: Error, CustomStringConvertible {
    case system(call: String, errno: Int32)
    var description: String {
        switch self {
        case .system(let call, let code): return "\(call) failed: \(String(cString: strerror(code)))"
        }
    }
}

/// Calls `body` with a NULL-terminated array of C strings that live for the call.
private func withCStrings<Result>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> Result) -> Result {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return body(pointers)
}
