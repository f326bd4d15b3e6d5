// Engine benchmark (issue 3): loads one GGUF file with KansoEngine and, at a given thread count,
// measures what llama.cpp's llama-bench measures, plus what a daemon worker pays to start:
// - ttft: time from opening the file to the first generated token (page cache warm: the file is
//   read once before), for a short text prompt through the tokenizer; best of the runs;
// - pp128: prompt processing of 128 tokens into an empty cache (tokens/s, best of the runs after
//   a warm-up run);
// - tg64: 64 tokens generated one at a time (greedy) after an 8-token prompt (tokens/s, best of
//   the runs after a warm-up run);
// - constrained: the grammar mask's cost per token (an extraction schema over the file's real
//   vocabulary) as a share of one tg step; constrained_copy: the same with its strings copied
//   from the request's text (x-kanso-from-text);
// - memory: peak resident set (VmHWM) against the file size + KV cache + 64 MiB.
// With --throughput-only it loads once and measures pp128, tg64 and memory alone (what
// bench/engine_vs_llama_bench.py sets beside llama.cpp's llama-bench); with --streams 1,8 it
// measures concurrent generations sharing passes alone (ConcurrentStreams.swift). KANSO_KERNELS picks the
// kernels' instruction set as for kansod; the pp and tg lines say which ran ("kernels").
// Each measurement is one JSON line on stdout; bench/engine_vs_llamacpp.py runs this beside
// llama.cpp on the same files. The benchmark tokens follow `benchmarkToken(_:vocabulary:)`, which
// the Python script reproduces so that both engines see the same ids.
//
// Run: swift build -c release --product kanso-bench-engine
//      .build/release/kanso-bench-engine --model bench/out/llama-1b-q8_0.gguf --threads 2 --runs 3
//      (--packed-cache DIR: the first load writes the packed-weight cache, the others map it)
//      .build/release/kanso-bench-engine --read-bandwidth --threads 2   (the memory's read rate)
import KansoGGUF
import Foundation
import KansoEngine

enum BenchmarkError: Error, CustomStringConvertible {
    case unknownArgument(String)
    case missingValue(option: String)
    case invalidValue(option: String, value: String)
    case missingModel
    case conflicting(String, String)
    case unreadable(path: String, reason: String)
    case nonFiniteLogits(measurement: String, step: Int)

    var description: String {
        switch self {
        case .unknownArgument(let argument):
            return "unknown argument '\(argument)' (expected --model PATH --threads N --runs N [--batch N] [--cache f32|f16] [--generation-only | --ttft-only | --throughput-only | --streams N,N,...] [--no-pack] [--packed-cache DIR]; or --read-bandwidth --threads N)"
        case .missingValue(let option): return "option \(option) needs a value"
        case .invalidValue(let option, let value): return "option \(option): '\(value)' is not valid"
        case .missingModel: return "--model PATH is required"
        case .conflicting(let first, let second): return "\(first) and \(second) each measure one part alone; give one of them"
        case .unreadable(let path, let reason): return "cannot read \(path) to warm the page cache: \(reason)"
        case .nonFiniteLogits(let measurement, let step):
            return "\(measurement): logits are not finite at step \(step) (the file's weight scales or the engine are wrong)"
        }
    }
}

struct BenchmarkOptions {
    var modelPath = ""
    var threads = 1
    var runs = 3
    /// Tokens per forward pass; nil = the engine's default (what kansod uses).
    var batchCapacity: Int?
    /// The KV cache's type (`--cache f32|f16|q8_0`); the engine's default otherwise.
    var cacheType = KVCacheType.f16
    /// Only the tg line: a quick A/B of generation kernels, and a profile without the other parts.
    var generationOnly = false
    /// Only the ttft line: a quick A/B of loading and short prompts, and a profile of them.
    var ttftOnly = false
    /// One load, then only the pp, tg and memory lines: llama-bench's measurements.
    var throughputOnly = false
    /// Model(packWeights:): false measures the engine with every matrix read from the file.
    var packWeights = true
    /// Model(packedCache:): with a folder, the first ttft run packs and writes the cache, the
    /// later ones map it.
    var packedCache: PackedWeightCache?
    /// Only the memory read bandwidth at `threads` (ReadBandwidth.swift), no model.
    var readBandwidthOnly = false
    /// Only concurrent greedy generations, this many at once each (ConcurrentStreams.swift).
    var streams: [Int] = []
    let streamTokens = 128
    let promptLength = 128
    let generationLength = 64
    let generationPromptLength = 8
    /// Context of the cache: the longest sequence the benchmark builds, rounded up.
    let contextLength = 256

    init(arguments: [String]) throws {
        var iterator = arguments.makeIterator()
        func value(_ option: String) throws -> String {
            guard let value = iterator.next() else { throw BenchmarkError.missingValue(option: option) }
            return value
        }
        func positive(_ option: String) throws -> Int {
            let text = try value(option)
            guard let number = Int(text), number > 0 else { throw BenchmarkError.invalidValue(option: option, value: text) }
            return number
        }
        while let argument = iterator.next() {
            switch argument {
            case "--model": modelPath = try value(argument)
            case "--threads": threads = try positive(argument)
            case "--runs": runs = try positive(argument)
            case "--batch": batchCapacity = try positive(argument)
            case "--generation-only": generationOnly = true
            case "--ttft-only": ttftOnly = true
            case "--throughput-only": throughputOnly = true
            case "--no-pack": packWeights = false
            case "--read-bandwidth": readBandwidthOnly = true
            case "--streams":
                let text = try value(argument)
                let counts = text.split(separator: ",").map { Int($0) ?? 0 }
                guard !counts.isEmpty, counts.allSatisfy({ $0 > 0 }) else { throw BenchmarkError.invalidValue(option: argument, value: text) }
                streams = counts
            case "--packed-cache": packedCache = PackedWeightCache(directory: try value(argument))
            case "--cache":
                let text = try value(argument)
                guard let type = KVCacheType(name: text) else { throw BenchmarkError.invalidValue(option: argument, value: text) }
                cacheType = type
            default: throw BenchmarkError.unknownArgument(argument)
            }
        }
        if modelPath.isEmpty && !readBandwidthOnly { throw BenchmarkError.missingModel }
        let parts = [("--generation-only", generationOnly), ("--ttft-only", ttftOnly), ("--throughput-only", throughputOnly),
                     ("--streams", !streams.isEmpty)]
            .filter(\.1).map(\.0)
        if parts.count > 1 { throw BenchmarkError.conflicting(parts[0], parts[1]) }
    }
}

/// The i-th benchmark token: BOS-free pseudo-random ids spread over the vocabulary (a fixed
/// formula rather than a generator so the Python side can reproduce it exactly).
func benchmarkToken(_ index: Int, vocabulary: Int) -> Int32 {
    Int32((index * 7919 + 104_729) % vocabulary)
}

func nanoseconds() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// CPU time of the whole process so far, in seconds: beside the wall-clock rate, a rate that the
/// neighbours of a shared machine do not take cores from (at one thread; with more, the pool's
/// spinning counts too).
func processSeconds() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

func argmax(_ logits: [Float]) -> Int32 {
    var best = 0
    for i in 1..<logits.count where logits[i] > logits[best] { best = i }
    return Int32(best)
}

func checkFinite(_ logits: [Float], measurement: String, step: Int) throws {
    for value in logits where !value.isFinite {
        throw BenchmarkError.nonFiniteLogits(measurement: measurement, step: step)
    }
}

/// A value from /proc/self/status in bytes (the kernel reports kB).
func statusBytes(_ key: String) -> Int {
    guard let text = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = text.split(separator: "\n").first(where: { $0.hasPrefix(key + ":") }),
          let kib = Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") else { return -1 }
    return kib * 1024
}

/// Reads the whole file through a small buffer so its pages are in the page cache without
/// becoming part of this process's resident set.
func warmPageCache(_ path: String) throws {
    guard let handle = FileHandle(forReadingAtPath: path) else {
        throw BenchmarkError.unreadable(path: path, reason: String(cString: strerror(errno)))
    }
    defer { try? handle.close() }
    while true {
        let chunk = try handle.read(upToCount: 8 << 20) ?? Data()
        if chunk.isEmpty { break }
    }
}

func emit(_ fields: [String: Any]) {
    guard let data = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]),
          let line = String(data: data, encoding: .utf8) else { return }
    print(line)
    fflush(stdout)
}

func rounded(_ value: Double, _ digits: Int = 2) -> Double {
    let scale = pow(10.0, Double(digits))
    return (value * scale).rounded() / scale
}

/// The schema of the constrained-decoding measurement (objects, strings, enum, integer, array, boolean).
let extractionSchema = #"""
    {"type":"object","properties":{
      "name":{"type":"string","maxLength":24},
      "email":{"type":"string","maxLength":24},
      "category":{"enum":["billing","bug","feature request","account"]},
      "priority":{"type":"integer","minimum":1,"maximum":5},
      "tags":{"type":"array","items":{"type":"string","maxLength":12},"maxItems":3},
      "urgent":{"type":"boolean"}},
     "required":["name","category","priority","urgent"]}
    """#

func loadModel(_ options: BenchmarkOptions) throws -> Model {
    let file = try GGUFFile(path: options.modelPath)
    if let batch = options.batchCapacity {
        return try Model(file: file, threads: options.threads, contextLength: options.contextLength,
                         batchCapacity: batch, cacheType: options.cacheType, packWeights: options.packWeights,
                         packedCache: options.packedCache)
    }
    return try Model(file: file, threads: options.threads, contextLength: options.contextLength,
                     cacheType: options.cacheType, packWeights: options.packWeights, packedCache: options.packedCache)
}

/// tg: a short prompt (untimed), then one token per pass, each the argmax of the last; returns
/// the timed runs' seconds.
func measureGeneration(_ model: Model, cache: KVCache, prompt: [Int32], options: BenchmarkOptions,
                       report: ([String: Any]) -> Void) throws -> [Double] {
    let generationPrompt = Array(prompt.prefix(options.generationPromptLength))
    var generationSeconds: [Double] = [], cpuSeconds: [Double] = []
    var generated: [Int32] = []  // the greedy tokens, compared with llama.cpp's by the Python script
    for run in 0...options.runs {
        cache.clear()
        var token = argmax(try model.evaluate(generationPrompt, in: cache)[0])
        generated = [token]
        let start = nanoseconds(), cpuStart = processSeconds()
        for step in 0..<options.generationLength {
            let logits = try model.decode(batch: [(cache: cache, token: token)])[0]
            if step == options.generationLength - 1 {
                try checkFinite(logits, measurement: "tg\(options.generationLength)", step: step)
            }
            token = argmax(logits)
            generated.append(token)
        }
        let seconds = Double(nanoseconds() - start) / 1e9
        if run > 0 { generationSeconds.append(seconds); cpuSeconds.append(processSeconds() - cpuStart) }
    }
    report(["measurement": "tg\(options.generationLength)", "tokens": options.generationLength,
            "tokens_per_second": rounded(Double(options.generationLength) / (generationSeconds.min() ?? .infinity)),
            "cpu_tokens_per_second": rounded(Double(options.generationLength) / (cpuSeconds.min() ?? .infinity)),
            "runs_seconds": generationSeconds.map { rounded($0, 4) }, "generated": generated.map { Int($0) },
            "kernels": model.kernelVariant.rawValue])

    return generationSeconds
}

func run(_ options: BenchmarkOptions) throws {
    if options.readBandwidthOnly {
        let rate = measureReadBandwidth(threads: options.threads, runs: options.runs)
        emit(["measurement": "read_bandwidth", "threads": options.threads, "gb_per_second": (rate * 10).rounded() / 10])
        return
    }
    try warmPageCache(options.modelPath)
    let name = URL(fileURLWithPath: options.modelPath).lastPathComponent
    let common: [String: Any] = ["model": name, "threads": options.threads, "engine": "kanso"]
    func report(_ fields: [String: Any]) { emit(common.merging(fields) { _, new in new }) }
    if !options.streams.isEmpty {
        let model = try loadModel(options)
        for count in options.streams {
            try measureConcurrentStreams(model, streams: count, tokens: options.streamTokens, runs: options.runs, report: report)
        }
        return
    }
    if options.generationOnly {
        let model = try loadModel(options)
        let prompt = (0..<options.generationPromptLength).map { benchmarkToken($0, vocabulary: model.configuration.vocabularySize) }
        _ = try measureGeneration(model, cache: try model.makeCache(capacity: options.contextLength), prompt: prompt,
                                  options: options, report: report)
        return
    }

    // Time to first token: each run opens and loads the file anew; the previous model is released
    // first, so the peak resident set still holds one model.
    var firstTokenTimes: [Double] = []
    var loadTimes: [Double] = []  // of each run: opening the file, tokenizer and model, in ms
    var origins: [String] = []    // of each run: where the packed matrices came from
    var tableOrigins: [String] = []  // of each run: where the tokenizer's tables came from
    var model: Model?
    for _ in 0..<(options.throughputOnly ? 1 : options.runs) {
        model = nil
        let start = nanoseconds()
        let loaded = try loadModel(options)
        loadTimes.append(Double(nanoseconds() - start) / 1e6)
        let cache = try loaded.makeCache(capacity: options.contextLength)
        let prompt = loaded.tokenizer.encode("Once upon a time, there was a little robot who")
        let logits = try loaded.evaluate(prompt, in: cache)[0]
        _ = argmax(logits)
        firstTokenTimes.append(Double(nanoseconds() - start) / 1e6)
        try checkFinite(logits, measurement: "ttft", step: 0)
        origins.append(loaded.waitForPackedCache().description)  // untimed: a first run writes the caches
        tableOrigins.append(loaded.tokenizerTables.description)
        model = loaded
    }
    guard let model else { return }
    if !options.throughputOnly {
        // The same prompt once more on the loaded model: the pass without first-touch costs.
        let warmStart = nanoseconds()
        _ = try model.evaluate(model.tokenizer.encode("Once upon a time, there was a little robot who"),
                               in: try model.makeCache(capacity: options.contextLength))
        report(["measurement": "ttft", "milliseconds": rounded(firstTokenTimes.min() ?? 0),
                "runs_milliseconds": firstTokenTimes.map { rounded($0) },
                "load_milliseconds": loadTimes.map { rounded($0) },
                "prompt_milliseconds": zip(firstTokenTimes, loadTimes).map { rounded($0 - $1) },
                "packed_weights": origins, "tokenizer_tables": tableOrigins,
                "warm_prompt_milliseconds": rounded(Double(nanoseconds() - warmStart) / 1e6)])
    }
    if options.ttftOnly { return }

    let vocabulary = model.configuration.vocabularySize
    let cache = try model.makeCache(capacity: options.contextLength)

    // Prompt processing: the whole prompt in one evaluate call, into an empty cache.
    let prompt = (0..<options.promptLength).map { benchmarkToken($0, vocabulary: vocabulary) }
    var promptSeconds: [Double] = [], promptCPUSeconds: [Double] = []
    for run in 0...options.runs {  // run 0 is the warm-up
        cache.clear()
        let start = nanoseconds(), cpuStart = processSeconds()
        let logits = try model.evaluate(prompt, in: cache)[0]
        let seconds = Double(nanoseconds() - start) / 1e9
        try checkFinite(logits, measurement: "pp\(options.promptLength)", step: options.promptLength - 1)
        if run > 0 { promptSeconds.append(seconds); promptCPUSeconds.append(processSeconds() - cpuStart) }
    }
    report(["measurement": "pp\(options.promptLength)", "tokens": options.promptLength,
            "batch_capacity": model.batchCapacity, "kernels": model.kernelVariant.rawValue,
            "tokens_per_second": rounded(Double(options.promptLength) / (promptSeconds.min() ?? .infinity)),
            "cpu_tokens_per_second": rounded(Double(options.promptLength) / (promptCPUSeconds.min() ?? .infinity)),
            "runs_seconds": promptSeconds.map { rounded($0, 4) }])

    let generationSeconds = try measureGeneration(model, cache: cache, prompt: prompt, options: options, report: report)

    // Memory of the model as it serves predictions and labels: before the grammar masker below,
    // which an extraction agent adds (its bytes are reported with it).
    let fileBytes = model.file.fileSize
    let cacheBytes = cache.capacityByteCount
    let budget = fileBytes + cacheBytes + 64 << 20
    let peak = statusBytes("VmHWM")
    report(["measurement": "memory", "peak_rss_bytes": peak, "rss_bytes": statusBytes("VmRSS"),
            "file_bytes": fileBytes, "kv_cache_bytes": cacheBytes, "budget_bytes": budget,
            "scratch_bytes": model.scratchByteCount, "within_budget": peak >= 0 && peak <= budget])
    if options.throughputOnly { return }

    // Constrained decoding: the per-token cost of the grammar mask (compute + apply to the logits)
    // as a share of one unconstrained generation step, over an extraction schema; the model's
    // random weights pick among the allowed tokens, so the walk covers strings, numbers and enums.
    let grammar = try SchemaGrammar(schemaText: extractionSchema, options: .init(maximumStringLength: 24, maximumArrayItems: 3))
    let maskerStart = nanoseconds()
    let residentBeforeMasker = statusBytes("VmRSS")
    let masker = TokenMasker(tokenizer: model.tokenizer)
    let maskerMilliseconds = Double(nanoseconds() - maskerStart) / 1e6
    let maskerBytes = statusBytes("VmRSS") - residentBeforeMasker
    var decoder = ConstrainedDecoder(model: model, grammar: grammar, masker: masker,
                                     sampler: SamplerChain(settings: SamplingSettings(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 7)),
                                     maximumTokens: 400)
    cache.clear()
    let extraction = try decoder.decode(prompt: model.tokenizer.encode("Contact: Ada Lovelace, ada@example.org. JSON:"), in: cache)
    let maskMicroseconds = extraction.maskSeconds * 1e6 / Double(max(extraction.maskCount, 1))
    let stepMicroseconds = 1e6 * (generationSeconds.min() ?? .infinity) / Double(options.generationLength)
    report(["measurement": "constrained", "tokens": extraction.tokens.count, "masker_build_milliseconds": rounded(maskerMilliseconds),
            "masker_resident_bytes": maskerBytes,
            "mask_microseconds_per_token": rounded(maskMicroseconds), "step_microseconds": rounded(stepMicroseconds),
            "mask_share_of_step_percent": rounded(100 * maskMicroseconds / stepMicroseconds)])

    // The same with the strings copied from the text (x-kanso-from-text): the grammar is bound to
    // the request, so no mask is cached and spans are walked through the text's suffix automaton.
    let copyText = "Contact: Ada Lovelace, Analytical Engines Ltd, ada@example.org, tags: math poetry. JSON:"
    let copyGrammar = try SchemaGrammar(schemaText: extractionSchema.replacingOccurrences(of: "\"type\":\"string\"", with: "\"type\":\"string\",\"x-kanso-from-text\":true"),
                                        options: .init(maximumStringLength: 24, maximumArrayItems: 3))
    var copyDecoder = ConstrainedDecoder(model: model, grammar: copyGrammar.bound(toText: copyText), masker: masker,
                                         sampler: SamplerChain(settings: SamplingSettings(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 7)),
                                         maximumTokens: 400)
    cache.clear()
    let copied = try copyDecoder.decode(prompt: model.tokenizer.encode(copyText), in: cache)
    let copyMaskMicroseconds = copied.maskSeconds * 1e6 / Double(max(copied.maskCount, 1))
    report(["measurement": "constrained_copy", "tokens": copied.tokens.count,
            "mask_microseconds_per_token": rounded(copyMaskMicroseconds), "step_microseconds": rounded(stepMicroseconds),
            "mask_share_of_step_percent": rounded(100 * copyMaskMicroseconds / stepMicroseconds)])


    // Where the time to first token goes, each part timed alone on a second mapping of the file,
    // last, so that neither it nor the tokenizers built here weigh on the memory figures above:
    // parsing the header, building the tokenizer (best of the runs), populating the page tables.
    do {
        var start = nanoseconds()
        let file = try GGUFFile(path: options.modelPath)
        let openMilliseconds = Double(nanoseconds() - start) / 1e6
        var tokenizerMilliseconds = Double.infinity
        for _ in 0..<options.runs {
            start = nanoseconds()
            _ = try Tokenizer(gguf: file)
            tokenizerMilliseconds = min(tokenizerMilliseconds, Double(nanoseconds() - start) / 1e6)
        }
        start = nanoseconds()
        file.populate(file.tensors)
        let populateMilliseconds = Double(nanoseconds() - start) / 1e6
        report(["measurement": "ttft_parts", "open_milliseconds": rounded(openMilliseconds),
                "tokenizer_milliseconds": rounded(tokenizerMilliseconds), "populate_milliseconds": rounded(populateMilliseconds)])
    }
}

do {
    try run(try BenchmarkOptions(arguments: Array(CommandLine.arguments.dropFirst())))
} catch {
    FileHandle.standardError.write(Data("kanso-bench-engine: \(error)\n".utf8))
    exit(1)
}
