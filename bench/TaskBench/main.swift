// Task benchmark (issue 22): how well the specialist agents' techniques answer, offline, with
// KansoEngine linked directly (no daemon): for each model, classification by label likelihoods
// (zero-/few-shot, score forms, contextual calibration), by heads on hidden states (every prompt
// form, layer and pooling, chosen by cross-validation on the agent's examples), and by their
// blend; extraction under the contact schema with and without the copy constraint. Choices are
// made on the examples files; the benchmark files confirm them (bench/tasks/README.md). Prints
// Markdown tables. The shipped agents measured through the daemon: bench/README.md, "Specialists
// through the daemon" (tasks_through_daemon.py).
//
// Run: swift build -c release --product kanso-bench-tasks
//      .build/release/kanso-bench-tasks --threads 2                 (both real models, both tasks)
//      .build/release/kanso-bench-tasks --model PATH --task classify --classify-benchmark other.jsonl

import Foundation
import KansoEngine

struct TaskBenchOptions {
    var modelPaths: [String] = []
    var threads = 2
    var tasks: Set<String> = ["classify", "extract"]
    var dataDirectory = "bench/tasks"
    var classifyExamples: String?
    var classifyBenchmark: String?
    var extractExamples: String?
    var extractBenchmark: String?
    var classify = ClassifyOptions()
    var extract = ExtractOptions()

    static let usage = "[--model PATH]... [--threads N] [--task classify|extract] [--data DIR] [--classify-examples F] [--classify-benchmark F] [--extract-examples F] [--extract-benchmark F] [--folds N] [--layer-stride N] [--shots N] [--shots-per-label N] [--show-errors] [--fields a,b,...] [--copy none,span,span+email] [--forms raw,chat] [--shot-counts 0,6]"

    init(arguments: [String]) throws {
        var iterator = arguments.makeIterator()
        func value(_ option: String) throws -> String {
            guard let value = iterator.next() else { throw TaskBenchError.usage("\(option) needs a value") }
            return value
        }
        func positive(_ option: String) throws -> Int {
            let text = try value(option)
            guard let number = Int(text), number > 0 else { throw TaskBenchError.usage("\(option): '\(text)' is not a positive number") }
            return number
        }
        var tasks: Set<String> = []
        while let argument = iterator.next() {
            switch argument {
            case "--model": modelPaths.append(try value(argument))
            case "--threads": threads = try positive(argument)
            case "--task":
                let task = try value(argument)
                guard task == "classify" || task == "extract" else { throw TaskBenchError.usage("--task: '\(task)' is not classify or extract") }
                tasks.insert(task)
            case "--data": dataDirectory = try value(argument)
            case "--classify-examples": classifyExamples = try value(argument)
            case "--classify-benchmark": classifyBenchmark = try value(argument)
            case "--extract-examples": extractExamples = try value(argument)
            case "--extract-benchmark": extractBenchmark = try value(argument)
            case "--folds": classify.folds = try positive(argument)
            case "--layer-stride": classify.layerStride = try positive(argument)
            case "--shots": extract.shots = try positive(argument)
            case "--shots-per-label": classify.shotsPerLabel = try positive(argument)
            case "--show-errors": extract.showErrors = true
            case "--shot-counts": extract.shotCounts = try value(argument).split(separator: ",").map { text in
                    guard let count = Int(text), count >= 0 else { throw TaskBenchError.usage("--shot-counts: '\(text)' is not a count") }
                    return count
                }
            case "--fields": extract.fields = try value(argument).split(separator: ",").map(String.init)
            case "--copy":
                extract.copyModes = try value(argument).split(separator: ",").map { text in
                    guard let mode = CopyMode(rawValue: String(text)) else { throw TaskBenchError.usage("--copy: '\(text)' is not none, span or span+email") }
                    return mode
                }
            case "--forms":
                extract.forms = try value(argument).split(separator: ",").map { text in
                    guard let form = PromptForm(rawValue: String(text)), form != .bare else { throw TaskBenchError.usage("--forms: '\(text)' is not raw or chat") }
                    return form
                }
            default: throw TaskBenchError.usage("unknown argument '\(argument)'")
            }
        }
        if !tasks.isEmpty { self.tasks = tasks }
        if modelPaths.isEmpty {
            let folder = ProcessInfo.processInfo.environment["KANSO_MODEL_DIR"] ?? "/var/lib/kanso/models"
            modelPaths = ["SmolLM2-135M-Instruct.Q4_1.gguf", "gemma-3-270m-q4_k_m.gguf"].map { folder + "/" + $0 }
        }
    }
}

enum TaskBenchError: Error, CustomStringConvertible {
    case usage(String)

    var description: String { "\(self.message) (usage: kanso-bench-tasks \(TaskBenchOptions.usage))" }
    private var message: String { if case .usage(let text) = self { return text } else { return "" } }
}

func run(_ options: TaskBenchOptions) throws {
    let labels = ["billing", "bug", "feature request", "account"]
    let data = options.dataDirectory
    print("# kanso-bench-tasks, \(options.threads) threads, load average \(loadAverage())")
    var chosen: [(String, [Prediction])] = []
    for path in options.modelPaths {
        let name = String(path.split(separator: "/").last ?? "")
        let model = try Model(path: path, threads: options.threads, contextLength: 4096)
        if options.tasks.contains("classify") {
            let examples = try TaskData.classifyItems(options.classifyExamples ?? "agents/ticket-triage.examples.jsonl", labels: labels)
            let benchmark = try TaskData.classifyItems(options.classifyBenchmark ?? data + "/ticket-triage.benchmark.jsonl", labels: labels)
            chosen.append((name, try ClassifyBench(runner: ClassifyRunner(model: model, labels: labels), modelName: name,
                                                   examples: examples, benchmark: benchmark, options: options.classify).run()))
        }
        if options.tasks.contains("extract") {
            let examples = try TaskData.extractItems(options.extractExamples ?? "agents/contact-extract.examples.jsonl")
            let benchmark = try TaskData.extractItems(options.extractBenchmark ?? data + "/contact-extract.benchmark.jsonl")
            try ExtractBench(model: model, modelName: name, examples: examples, benchmark: benchmark, options: options.extract).run()
        }
        print("\n(load average after \(name): \(loadAverage()))")
    }
    if chosen.count >= 2 { ClassifyBench.printEscalation(from: chosen[0], to: chosen[1]) }
}

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}

setvbuf(stdout, nil, _IOLBF, 0)
do {
    try run(try TaskBenchOptions(arguments: Array(CommandLine.arguments.dropFirst())))
} catch {
    FileHandle.standardError.write(Data("kanso-bench-tasks: \(error)\n".utf8))
    exit(1)
}
