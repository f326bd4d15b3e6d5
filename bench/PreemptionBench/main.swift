// Pre-emption benchmark (issue 21). Starts the release `kansod` with three agents on one model:
// a background predict agent that generates 300 tokens, and the same classify agent twice, once
// interactive (it pre-empts the generation at its next token boundary) and once normal (it waits
// for the generation to end). Each round, alternated: the classify latency on the idle model,
// then behind a running generation for each of the two priorities.
//
// Run: swift build -c release --product kansod && swift build -c release --product kanso-bench-preempt
//      .build/release/kanso-bench-preempt [--model PATH] [--rounds N] [--tokens N] [--threads N]
import Foundation
import KansoBenchSupport
import KansoWire

struct Options {
    var model = "/var/lib/kanso/models/SmolLM2-135M-Instruct.Q4_1.gguf"
    var rounds = 5
    var tokens = 300
    var threads = 2
    var kansod: String = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("kansod").path

    init() {
        var arguments = CommandLine.arguments.dropFirst().makeIterator()
        while let argument = arguments.next() {
            switch argument {
            case "--model": model = arguments.next() ?? model
            case "--rounds": rounds = Int(arguments.next() ?? "") ?? rounds
            case "--tokens": tokens = Int(arguments.next() ?? "") ?? tokens
            case "--threads": threads = Int(arguments.next() ?? "") ?? threads
            case "--kansod": kansod = arguments.next() ?? kansod
            default:
                let usage = "usage: kanso-bench-preempt [--model PATH] [--rounds N] [--tokens N] [--threads N] [--kansod PATH]\n"
                FileHandle.standardError.write(Data(((argument == "--help" ? "" : "unknown argument \(argument)\n") + usage).utf8))
                exit(argument == "--help" ? 0 : 64)
            }
        }
    }
}

func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }  // milliseconds

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

/// A kansod on a private socket with the benchmark's three agents on `model`.
func startDaemon(options: Options) throws -> BenchDaemon {
    let daemon = try BenchDaemon(benchmark: "preempt")
    let model = URL(fileURLWithPath: options.model).standardizedFileURL.path
    try """
    name = "story"
    task = "predict"
    model = "\(model)"
    priority = "background"
    prompt = "{text}"
    max_tokens = \(options.tokens)
    [sampling]
    temperature = 0.8
    seed = 7
    """.write(to: daemon.agents.appendingPathComponent("story.toml"), atomically: true, encoding: .utf8)
    for priority in ["interactive", "normal"] {
        try """
        name = "triage-\(priority)"
        task = "classify"
        model = "\(model)"
        priority = "\(priority)"
        prompt = "Classify this support ticket.\\nTicket: {text}\\nCategory:"
        labels = ["billing", "bug", "feature request", "account"]
        """.write(to: daemon.agents.appendingPathComponent("triage-\(priority).toml"), atomically: true, encoding: .utf8)
    }
    try daemon.start(kansod: options.kansod, arguments: ["--threads", "\(options.threads)",
                         "--cache-directory", daemon.folder.appendingPathComponent("cache").path])
    return daemon
}

let ticket = "I was charged twice for my subscription this month and nobody answers my emails."

/// Milliseconds of one classify.
func classify(_ daemon: BenchDaemon, agent: String) throws -> Double {
    let client = try daemon.client()
    let start = now()
    _ = try client.classify(agent: agent, text: ticket)
    return now() - start
}

/// The classify's latency behind a running generation, and whether it came back before the
/// generation's end; waits for the generation to end.
func classifyBehindGeneration(_ daemon: BenchDaemon, agent: String, tokens: Int) throws -> (milliseconds: Double, beforeEnd: Bool, generated: Int) {
    final class Generation: @unchecked Sendable {  // written by its thread before `ended` is signalled
        let started = DispatchSemaphore(value: 0)
        let ended = DispatchSemaphore(value: 0)
        var endedAt = 0.0
        var generated = 0
    }
    let generation = Generation()
    let client = try daemon.client()
    Thread {
        var signalled = false
        let final = try? client.continuation(agent: "story", text: "Once upon a time", maxTokens: tokens) { _ in
            if !signalled { signalled = true; generation.started.signal() }
            return true
        }
        generation.endedAt = now()
        generation.generated = final?.generatedTokens ?? 0
        if !signalled { generation.started.signal() }
        generation.ended.signal()
    }.start()
    generation.started.wait()
    usleep(50_000)  // the generation is well under way
    let milliseconds = try classify(daemon, agent: agent)
    let answeredAt = now()
    generation.ended.wait()
    return (milliseconds, answeredAt < generation.endedAt, generation.generated)
}

setvbuf(stdout, nil, _IOLBF, 0)
let options = Options()
print("kanso pre-emption benchmark (release build, \(options.threads) threads, \(ProcessInfo.processInfo.activeProcessorCount) cores)")
print("model \(options.model), background generation of \(options.tokens) tokens, \(options.rounds) rounds")
let daemon = try startDaemon(options: options)
_ = try classify(daemon, agent: "triage-interactive")  // load, compute the prefixes
_ = try classify(daemon, agent: "triage-normal")
var idle: [Double] = [], preempting: [Double] = [], waiting: [Double] = []
var beforeEnd = 0, generated: [Int] = []
for round in 1...options.rounds {
    idle.append(try classify(daemon, agent: "triage-interactive"))
    let interactive = try classifyBehindGeneration(daemon, agent: "triage-interactive", tokens: options.tokens)
    preempting.append(interactive.milliseconds)
    if interactive.beforeEnd { beforeEnd += 1 }
    let normal = try classifyBehindGeneration(daemon, agent: "triage-normal", tokens: options.tokens)
    waiting.append(normal.milliseconds)
    generated += [interactive.generated, normal.generated]
    print(String(format: "round %d: idle %.1f ms, interactive behind generation %.1f ms, normal behind generation %.1f ms",
                 round, idle.last!, interactive.milliseconds, normal.milliseconds))
}
print(String(format: "classify median: idle %.1f ms | interactive behind a %d-token background generation %.1f ms (answered before its end %d/%d) | normal (not pre-empting) %.1f ms",
             median(idle), options.tokens, median(preempting), beforeEnd, options.rounds, median(waiting)))
print("tokens the background generations produced: \(generated.map(String.init).joined(separator: " "))")
// A global's deinit never runs: end the daemon here.
daemon.stop()
