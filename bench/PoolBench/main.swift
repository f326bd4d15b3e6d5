// Pool and jobs benchmark (issues: the pool, the three jobs). Starts the release `kansod` with
// agents on the given model files and measures, through the socket:
// - spin-up: a request for an absent agent until its first streamed token (page cache warm),
// - swap: with a budget that holds one model, alternating requests between two models,
// - classification of a ~100-token text with 4 labels: p50/p99 latency with 1 client, and
//   requests per second with 8 concurrent clients.
//
// Run: swift build -c release --product kansod && swift build -c release --product kanso-bench-pool
//      (one --product per build: a second one replaces the first)
//      .build/release/kanso-bench-pool --small bench/out/smollm2-135m-q8_0.gguf --large bench/out/llama-1b-q8_0.gguf
//      [--no-packed-cache: every load packs in memory, as without a cache folder]
import Foundation
import KansoBenchSupport
import KansoWire

struct Options {
    var small: String?
    var large: String?
    var runs = 5
    var classifications = 40
    var threads = 2
    /// false: kansod --no-packed-cache (every load packs in memory), to compare side by side.
    var packedCache = true
    var kansod: String = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("kansod").path

    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--small": small = arguments.next()
            case "--large": large = arguments.next()
            case "--runs": runs = Int(arguments.next() ?? "") ?? runs
            case "--classifications": classifications = Int(arguments.next() ?? "") ?? classifications
            case "--threads": threads = Int(arguments.next() ?? "") ?? threads
            case "--kansod": kansod = arguments.next() ?? kansod
            case "--no-packed-cache": packedCache = false
            default:
                let usage = "usage: kanso-bench-pool --small MODEL --large MODEL [--runs N] [--classifications N] [--threads N] [--kansod PATH] [--no-packed-cache]\n"
                FileHandle.standardError.write(Data(((argument == "--help" ? "" : "unknown argument \(argument)\n") + usage).utf8))
                exit(argument == "--help" ? 0 : 64)
            }
        }
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }  // milliseconds

func percentile(_ values: [Double], _ p: Double) -> Double {
    let sorted = values.sorted()
    return sorted[min(sorted.count - 1, max(0, Int((Double(sorted.count) * p).rounded(.up)) - 1))]
}

/// A kansod on a private socket with one predict and one classify agent per model.
func startDaemon(options: Options, models: [(name: String, path: String)], budget: String?) throws -> BenchDaemon {
    let daemon = try BenchDaemon(benchmark: "pool")
    for model in models {
        try """
        name = "\(model.name)-predict"
        task = "predict"
        model = "\(model.path)"
        prompt = "{text}"
        keep_alive = "10m"
        context_length = 512
        [sampling]
        temperature = 0
        """.write(to: daemon.agents.appendingPathComponent("\(model.name)-predict.toml"), atomically: true, encoding: .utf8)
        try """
        name = "\(model.name)-classify"
        task = "classify"
        model = "\(model.path)"
        prompt = "Classify this support ticket.\\nTicket: {text}\\nCategory:"
        labels = ["billing", "bug", "feature request", "account"]
        keep_alive = "10m"
        context_length = 512
        """.write(to: daemon.agents.appendingPathComponent("\(model.name)-classify.toml"), atomically: true, encoding: .utf8)
    }
    // A packed-weight cache of its own, empty at start: the first load of each model fills it.
    let cache = options.packedCache ? ["--cache-directory", daemon.folder.appendingPathComponent("cache").path] : ["--no-packed-cache"]
    try daemon.start(kansod: options.kansod, arguments: ["--threads", "\(options.threads)"]
        + cache + (budget.map { ["--memory-budget", $0] } ?? []))
    return daemon
}

/// Milliseconds from sending a streamed Predict to its first piece.
func firstToken(_ client: KansoClient, agent: String) throws -> Double {
    let start = now()
    var first: Double?
    _ = try client.continuation(agent: agent, text: "Once upon a time", maxTokens: 2) { _ in
        if first == nil { first = now() - start }
        return true
    }
    return first ?? (now() - start)
}

setvbuf(stdout, nil, _IOLBF, 0)
let options = Options()
// Absolute paths: a manifest's relative model path is taken relative to the manifest's folder.
let models = [("small", options.small), ("large", options.large)].compactMap { name, path in
    path.map { (name: name, path: URL(fileURLWithPath: $0).standardizedFileURL.path) }
}
guard !models.isEmpty else { fatalError("give --small and/or --large model files") }
print("kanso pool benchmark (release build, \(options.threads) threads per worker, \(ProcessInfo.processInfo.activeProcessorCount) cores)")

// Spin-up: load on demand until the first token, page cache warm (a first load warms it).
do {
    let daemon = try startDaemon(options: options, models: models, budget: nil)
    for model in models {
        let client = try daemon.client()
        // The first load packs the weights (and writes the cache file, finished before its unload).
        let first = try firstToken(client, agent: "\(model.name)-predict")
        var times: [Double] = []
        for _ in 0..<options.runs {
            _ = try client.unload(agent: "\(model.name)-predict")
            while (try client.status().models.first { $0.path == model.path }?.state) != "absent" { usleep(5_000) }
            times.append(try firstToken(client, agent: "\(model.name)-predict"))
        }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: model.path)[.size] as? Int) ?? 0
        print(String(format: "spin-up %-6@ %@ (%.0f MiB): absent → first token p50 %.0f ms, min %.0f ms over %d runs (first load %.0f ms; packed cache %@)",
                     model.name as NSString, (model.path as NSString).lastPathComponent, Double(bytes) / 1048576,
                     percentile(times, 0.5), times.min()!, times.count, first, (options.packedCache ? "on" : "off") as NSString))
    }
}

// Swap: a budget that holds only the larger model, requests alternating between the two.
if models.count == 2 {
    let largeBytes = (try FileManager.default.attributesOfItem(atPath: models[1].path)[.size] as? Int) ?? 0
    // The larger model's estimate is its file + KV cache (16 MiB at 512 positions for the 1B
    // shape) + scratch (~40 MiB) + a worker's 32 MiB; 112 MiB over the file holds it alone, and
    // not the small one beside it (~200 MiB), so each switch evicts.
    let daemon = try startDaemon(options: options, models: models, budget: "\(largeBytes + (112 << 20))")
    let client = try daemon.client()
    _ = try firstToken(client, agent: "small-predict")
    _ = try firstToken(client, agent: "large-predict")
    var times: [Double] = []
    for index in 0..<(options.runs * 2) {
        times.append(try firstToken(client, agent: index % 2 == 0 ? "small-predict" : "large-predict"))
    }
    let evictions = try client.status().models.reduce(0) { $0 + $1.evictions }
    print(String(format: "swap between the two (budget holds one): first token p50 %.0f ms, max %.0f ms, %d evictions",
                 percentile(times, 0.5), times.max()!, evictions))
}

// Classification: ~100 tokens of text, 4 labels.
let ticket = String(repeating: "My invoice for last month shows a charge twice and I cannot log in to see the details. ", count: 5)
for model in models {
    let daemon = try startDaemon(options: options, models: [model], budget: nil)
    let agent = "\(model.name)-classify"
    _ = try daemon.client().classify(agent: agent, text: ticket)
    let client = try daemon.client()
    var latencies: [Double] = []
    for _ in 0..<options.classifications {
        let start = now()
        _ = try client.classify(agent: agent, text: ticket)
        latencies.append(now() - start)
    }
    let group = DispatchGroup()
    let start = now()
    let perClient = max(1, options.classifications / 8)
    for _ in 0..<8 {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            guard let client = try? daemon.client() else { return }
            for _ in 0..<perClient { _ = try? client.classify(agent: agent, text: ticket) }
        }
    }
    group.wait()
    let rate = Double(perClient * 8) / ((now() - start) / 1000)
    print(String(format: "classify %-6@ 1 client: p50 %.0f ms, p99 %.0f ms; 8 clients: %.1f requests/s",
                 model.name as NSString, percentile(latencies, 0.5), percentile(latencies, 0.99), rate))
}
