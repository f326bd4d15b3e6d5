// Memory benchmark (issue: a memory budget that holds with real models). For each model, context
// and KV cache type, starts the release `kansod` with one predict agent sized for that context,
// reads the pool's estimate for the model, loads it, then runs the two requests of a predict agent
// that need the most: a continuation that fills the context (its text cut to the agent's
// max_input_tokens, then max_tokens generated) and the 50 most likely next words after the same
// text (100 candidates forked from it), sampling the worker's resident memory (smaps_rollup)
// every 10 ms. Prints the estimate beside the measured peak (the larger of the samples and the
// kernel's VmHWM), the worker's size right after the load and the charge the pool then holds for
// it (that size plus the estimate's variable part), and its size after 1.5 s idle (when it hands
// back its scratch).
//
// Run: swift build -c release --product kansod && swift build -c release --product kanso-bench-memory
//      .build/release/kanso-bench-memory --model /var/lib/kanso/models/gemma-3-270m-q4_k_m.gguf \
//          [--model ...] [--contexts default,4096] [--kv f16,f32] [--threads 2]
// "default" is the context the agent gets by need (its prompt, the default max_input_tokens, max_tokens).
import Foundation
import KansoBenchSupport
import KansoWire

struct Options {
    var models: [String] = []
    var contexts: [Int?] = [nil, 4096]
    var kvTypes = ["f16", "f32"]
    var threads = 2
    var kansod: String = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("kansod").path

    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--model": models.append(arguments.next() ?? "")
            case "--contexts": contexts = (arguments.next() ?? "").split(separator: ",").map { $0 == "default" ? nil : Int($0) }
            case "--kv": kvTypes = (arguments.next() ?? "").split(separator: ",").map(String.init)
            case "--threads": threads = Int(arguments.next() ?? "") ?? threads
            case "--kansod": kansod = arguments.next() ?? kansod
            default:
                let usage = "usage: kanso-bench-memory --model PATH [--model PATH ...] [--contexts default,4096] [--kv f16,f32] [--threads N] [--kansod PATH]\n"
                FileHandle.standardError.write(Data(((argument == "--help" ? "" : "unknown argument \(argument)\n") + usage).utf8))
                exit(argument == "--help" ? 0 : 64)
            }
        }
        if models.isEmpty || models.contains("") || contexts.contains(where: { $0 == 0 }) {
            FileHandle.standardError.write(Data("give at least one --model, and contexts as default or positive numbers\n".utf8))
            exit(64)
        }
    }
}

/// Tokens a generation adds, and what the agent's context holds besides its input (the
/// supervisor's allowance for special tokens, AgentDemand.specialTokens).
let generatedTokens = 64
let specialTokens = 4

/// A kansod on a private socket with one predict agent on `model`.
func startDaemon(options: Options, model: String, context: Int?, kvCache: String) throws -> BenchDaemon {
    let daemon = try BenchDaemon(benchmark: "memory")
    // The context by need: special tokens + max_input_tokens + max_tokens (an empty prompt around the text).
    let input = context.map { "max_input_tokens = \($0 - specialTokens - generatedTokens)\n" } ?? ""
    try """
    name = "fill"
    task = "predict"
    model = "\(model)"
    prompt = "{text}"
    max_tokens = \(generatedTokens)
    truncate = true
    kv_cache = "\(kvCache)"
    keep_alive = "10m"
    \(input)[sampling]
    temperature = 1
    seed = 7
    """.write(to: daemon.agents.appendingPathComponent("fill.toml"), atomically: true, encoding: .utf8)
    try daemon.start(kansod: options.kansod, arguments: ["--threads", "\(options.threads)",
                         "--no-spare-worker", "--cache-directory", daemon.folder.appendingPathComponent("cache").path])
    return daemon
}

/// A field of /proc/PID/smaps_rollup or /proc/PID/status in bytes ("Rss:", "VmHWM:").
func procBytes(_ pid: Int, file: String, field: String) -> Int? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/\(file)", encoding: .utf8) else { return nil }
    for line in text.split(separator: "\n") where line.hasPrefix(field) {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true)
        if parts.count >= 2, let kilobytes = Int(parts[1]) { return kilobytes * 1024 }
    }
    return nil
}

final class PeakSampler: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var peak = 0
    private var running = true
    func start(pid: Int) {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let rss = procBytes(pid, file: "smaps_rollup", field: "Rss:") ?? 0
                lock.withLock { peak = max(peak, rss) }
                usleep(10_000)
            }
        }
    }
    func stop() -> Int { lock.withLock { running = false; return peak } }
}

func mebibytes(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1048576) }

setvbuf(stdout, nil, _IOLBF, 0)
let options = Options()
let text = String(repeating: "The keeper of the lighthouse wrote down the colour of the sea after each storm. ", count: 700)
print("| model | context | KV | estimate MiB | measured peak MiB | estimate / peak | after load MiB | charge after load MiB | charge / peak | idle after 1.5 s MiB |")
print("|---|---|---|---|---|---|---|---|---|---|")
for model in options.models {
    for context in options.contexts {
        for kv in options.kvTypes {
            let daemon = try startDaemon(options: options, model: model, context: context, kvCache: kv)
            let client = try daemon.client()
            let name = URL(fileURLWithPath: model).lastPathComponent
            // The estimate as admission charges it before any load (the Status of an absent model
            // appears with the first request: load the agent, which reports it).
            _ = try client.load(agent: "fill")
            guard let loaded = try client.status().models.first, let pid = loaded.pid else { fatalError("\(name) did not load") }
            let afterLoad = procBytes(pid, file: "smaps_rollup", field: "Rss:") ?? 0
            let sampler = PeakSampler()
            sampler.start(pid: pid)
            let reply = try client.continuation(agent: "fill", text: text, maxTokens: generatedTokens)
            let words = try client.nextWords(agent: "fill", text: text, count: 50).words?.count ?? 0
            let sampled = sampler.stop()
            let peak = max(sampled, procBytes(pid, file: "status", field: "VmHWM:") ?? 0)
            usleep(1_500_000)
            let idle = procBytes(pid, file: "smaps_rollup", field: "Rss:") ?? 0
            let estimate = loaded.estimatedBytes
            // The pool's charge once the load is measured: its size after the load plus the
            // estimate's variable part.
            let charge = loaded.chargedBytes ?? 0
            func ratio(_ a: Int) -> String { String(format: "%.2f", Double(a) / Double(max(peak, 1))) }
            print("| \(name) | \(context.map(String.init) ?? "default") | \(kv) | \(mebibytes(estimate)) | \(mebibytes(peak)) | "
                  + "\(ratio(estimate)) | \(mebibytes(afterLoad)) | \(mebibytes(charge)) | \(ratio(charge)) | \(mebibytes(idle)) |"
                  + " <!-- generated \(reply.generatedTokens ?? 0) tokens (\(reply.stopReason ?? "?")), \(words) words -->")
        }
    }
}
