// Several sequences decoded at once in one process (--streams N): N threads, each with its own
// cache and a prompt of 16 benchmark tokens, released together, each generating `tokens` greedy
// tokens one `Model.evaluate` call at a time, as the worker's lanes do. The model's shared passes
// (KansoEngine/Model/SharedPasses.swift) batch them; this measures what that sharing reaches
// without the daemon around it (no sockets, no sampler stages, no replies), and how many callers a
// pass served on average. Beside `--batch N --throughput-only`'s pp128 (passes of N prompt tokens,
// one caller), it separates the cost of sharing from the cost of the daemon (bench/README.md,
// "Many clients, one model").

import Foundation
import KansoEngine

/// Aggregate tokens/s of `streams` concurrent greedy generations of `tokens` tokens (best of `runs`
/// after a warm-up), with the passes' mean callers.
func measureConcurrentStreams(_ model: Model, streams: Int, tokens: Int, runs: Int, report: ([String: Any]) -> Void) throws {
    let vocabulary = model.configuration.vocabularySize
    let caches = try (0..<streams).map { _ in try model.makeCache(capacity: 16 + tokens + 1) }
    var rates: [Double] = []
    var meanCallers: [Double] = []
    for run in 0...runs {  // run 0 is the warm-up
        for cache in caches { cache.clear() }
        let before = model.passStatistics
        let start = DispatchSemaphore(value: 0), finished = DispatchGroup()
        let failures = Failures()
        for s in 0..<streams {
            finished.enter()
            let cache = caches[s]
            let prompt = (0..<16).map { benchmarkToken(1000 * (run * streams + s) + $0, vocabulary: vocabulary) }
            let thread = Thread {
                defer { finished.leave() }
                start.wait()
                do {
                    var token = argmax(try model.evaluate(prompt, in: cache)[0])
                    for _ in 1..<tokens { token = argmax(try model.evaluate([token], in: cache)[0]) }
                } catch {
                    failures.record(error)
                }
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
        let began = nanoseconds()
        for _ in 0..<streams { start.signal() }
        finished.wait()
        let seconds = Double(nanoseconds() - began) / 1e9
        if let error = failures.first { throw error }
        let after = model.passStatistics
        if run > 0 {
            rates.append(Double(streams * tokens) / seconds)
            meanCallers.append(Double(after.servedEvaluations - before.servedEvaluations) / Double(max(1, after.passes - before.passes)))
        }
    }
    let best = rates.indices.max { rates[$0] < rates[$1] } ?? 0
    report(["measurement": "streams", "streams": streams, "tokens": tokens, "kernels": model.kernelVariant.rawValue,
            "tokens_per_second": rounded(rates[best]), "runs_tokens_per_second": rates.map { rounded($0) },
            "mean_callers_per_pass": rounded(meanCallers[best])])
}

/// The first error of the streams' threads.
private final class Failures: @unchecked Sendable {  // guarded by `lock`
    private let lock = NSLock()
    private var errors: [Error] = []
    func record(_ error: Error) { lock.lock(); errors.append(error); lock.unlock() }
    var first: Error? { lock.lock(); defer { lock.unlock() }; return errors.first }
}
