// Socket round-trip benchmark (issue: daemon and CLI). Starts the release `kansod` on a private
// socket, then measures calls per second and p50/p99 latency of `io.kanso.Admin.Status` and of a
// trivial call (`org.varlink.service.GetInfo`) with 1 and with 32 concurrent clients, each on its
// own connection calling as fast as it can (the machine saturated: latency is then mostly the
// queue, 32 calls in flight over the throughput), then with 32 clients paced at 100 calls/s
// each, plus the daemon's resident memory when idle (after one call) and after the load.
//
// Run: swift build -c release && .build/release/kanso-bench-socket [--calls N] [--agents DIR]
import Foundation
import KansoWire

struct Options {
    var calls = 2000          // per client
    var agents = "agents"
    var kansod: String = {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return own.appendingPathComponent("kansod").path
    }()

    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--calls": calls = Int(arguments.next() ?? "") ?? calls
            case "--agents": agents = arguments.next() ?? agents
            case "--kansod": kansod = arguments.next() ?? kansod
            default:
                let usage = "usage: kanso-bench-socket [--calls N (per client)] [--agents DIR] [--kansod PATH]\n"
                FileHandle.standardError.write(Data(((argument == "--help" ? "" : "unknown argument \(argument)\n") + usage).utf8))
                exit(argument == "--help" ? 0 : 64)
            }
        }
    }
}

/// Resident set size of a process in KiB, from /proc/PID/status.
func residentKiB(_ pid: Int32) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return -1 }
    return Int(line.split(separator: " ")[1]) ?? -1
}

func percentile(_ sorted: [Double], _ p: Double) -> Double {
    sorted[min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)]
}

/// Runs `clients` threads, each with its own connection making `calls` calls; returns
/// (calls per second, latencies in microseconds, sorted). Without `pace` each client calls as
/// fast as it can. With `pace` (ns between one client's calls) each calls on a schedule instead:
/// the latency 32 programs see when they use the daemon at once without saturating the
/// machine; each latency then runs from the moment the call was due, so a call delayed behind a
/// slow one counts its wait (no coordinated omission), and clients start spread over one pace.
func measure(socket: String, method: String, clients: Int, calls: Int, pace: UInt64? = nil) -> (Double, [Double]) {
    let latencies = LatencyLog(clients: clients)
    let group = DispatchGroup()
    let start = DispatchTime.now().uptimeNanoseconds + (pace == nil ? 0 : 50_000_000)
    for index in 0..<clients {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            do {
                let connection = try VarlinkConnection(path: socket)
                let call = VarlinkCall(method: method)
                var mine: [Double] = []
                mine.reserveCapacity(calls)
                for k in 0..<calls {
                    var t0 = DispatchTime.now().uptimeNanoseconds
                    if let pace {
                        let due = start + pace * UInt64(index) / UInt64(clients) + UInt64(k) * pace
                        if due > t0 { usleep(UInt32((due - t0) / 1000)) }
                        t0 = due
                    }
                    _ = try connection.call(call)
                    mine.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000)
                }
                latencies.set(index, mine)
            } catch {
                FileHandle.standardError.write(Data("client \(index): \(error)\n".utf8))
            }
        }
    }
    group.wait()
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    let all = latencies.all.sorted()
    return (Double(all.count) / seconds, all)
}

/// Each client thread's latencies, written once per thread.
final class LatencyLog: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var perClient: [[Double]]
    init(clients: Int) { perClient = Array(repeating: [], count: clients) }
    func set(_ index: Int, _ values: [Double]) { lock.lock(); perClient[index] = values; lock.unlock() }
    var all: [Double] { lock.lock(); defer { lock.unlock() }; return perClient.flatMap { $0 } }
}

let options = Options()
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-bench-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
let socketPath = folder.appendingPathComponent("kansod.sock").path
let daemon = Process()
daemon.executableURL = URL(fileURLWithPath: options.kansod)
daemon.arguments = ["--socket", socketPath, "--agents", options.agents, "--log-level", "warning"]
daemon.standardError = FileHandle.nullDevice
try daemon.run()
defer { daemon.terminate(); daemon.waitUntilExit(); try? FileManager.default.removeItem(at: folder) }

// Wait until it answers, then let it settle.
var ready = false
for _ in 0..<200 where !ready {
    if let connection = try? VarlinkConnection(path: socketPath), (try? connection.call(VarlinkCall(method: "org.varlink.service.GetInfo"))) != nil {
        ready = true
    } else {
        usleep(25_000)
    }
}
guard ready else { fatalError("kansod did not answer on \(socketPath)") }
sleep(1)
let idleRSS = residentKiB(daemon.processIdentifier)

print("kansod socket round trip (release build, \(options.calls) calls per client, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
print("method                           clients    calls/s    p50 µs    p99 µs")
for method in ["org.varlink.service.GetInfo", "io.kanso.Admin.Status"] {
    for clients in [1, 32] {
        _ = measure(socket: socketPath, method: method, clients: clients, calls: max(50, options.calls / 20))  // warm-up
        let (rate, latencies) = measure(socket: socketPath, method: method, clients: clients, calls: options.calls)
        print(String(format: "%-32@ %7d %10.0f %9.0f %9.0f", method as NSString, clients, rate,
                     percentile(latencies, 0.50), percentile(latencies, 0.99)))
    }
}
let pacedRate = 100.0
print("paced: 32 clients, each \(Int(pacedRate)) calls/s (\(32 * Int(pacedRate)) calls/s in all), 5 s")
for method in ["org.varlink.service.GetInfo", "io.kanso.Admin.Status"] {
    let (rate, latencies) = measure(socket: socketPath, method: method, clients: 32, calls: Int(5 * pacedRate),
                                    pace: UInt64(1e9 / pacedRate))
    print(String(format: "%-32@ %7d %10.0f %9.0f %9.0f", method as NSString, 32, rate,
                 percentile(latencies, 0.50), percentile(latencies, 0.99)))
}
let loadedRSS = residentKiB(daemon.processIdentifier)
print(String(format: "kansod RSS: idle %.1f MiB, after the runs %.1f MiB", Double(idleRSS) / 1024, Double(loadedRSS) / 1024))
