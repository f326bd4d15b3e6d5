// Continuous batching inside the model: evaluations called at the same time from several threads
// (the worker runs each request on a thread of its own) share forward passes instead of taking
// turns. Decoding reads every weight once per pass whatever the batch, so eight sequences that
// each need one token cost little more than one.
//
// Each call becomes a pending evaluation; one caller at a time leads: it gathers what is pending,
// runs one pass of at most `batchCapacity` tokens over it, appends each entry's tokens to its
// cache, hands each caller its logits, and leads again while its own evaluation is unfinished.
// - Gathering: a round waits for as many evaluations as the last round had, at most a quarter of
//   the last pass's time (0.2-5 ms): sequences that decode together re-enter together after their
//   sampling, and a sequence that ended or lags costs one short wait, not a split batch.
// - Filling a pass: the evaluations with the fewest tokens left go first (decoding steps, then
//   short prompts, then the next chunk of a long prompt), so a long prompt is evaluated a pass's
//   room at a time beside the others' tokens and never stalls them for more than one pass.
// - Every row of a pass is computed from its own token, position and cache alone; only the kernel
//   differs with the company: a pass of one token takes the vector kernel, whose sums run in
//   another order than the batch kernels', so the last bits differ. A cache that asks for it
//   (KVCache.batchInvariant) has every pass take the batch kernels, whose result for a vector does
//   not depend on the others: bit for bit the same numbers alone and in company
//   (ModelSharedPassesTests, ModelBatchInvarianceTests).
// Alone, an evaluation goes through exactly the passes it had before (chunks of batchCapacity).

import KansoConcurrency
import Dispatch

/// One caller's evaluation while it waits in `SharedPasses`: its entries, how far the passes have
/// walked them, and where its logits go.
final class PendingEvaluation {
    let batch: [(cache: KVCache, tokens: [Int32])]
    let allLogits: Bool
    /// Dropped when it is done: the caller's closure must not outlive its call.
    var visit: ((_ entry: Int, _ token: Int, _ logits: UnsafeBufferPointer<Float>) -> Void)?
    /// The next (entry, token) pair to put in a pass.
    var entry = 0
    var offset = 0
    /// Every token went through a pass that has ended: the caller may return.
    var isDone = false
    let caches: Set<ObjectIdentifier>

    /// `caches`: the identities of the batch's caches (the caller has them from its checks).
    init(batch: [(cache: KVCache, tokens: [Int32])], caches: Set<ObjectIdentifier>, allLogits: Bool,
         visit: @escaping (_ entry: Int, _ token: Int, _ logits: UnsafeBufferPointer<Float>) -> Void) {
        self.batch = batch
        self.caches = caches
        self.allLogits = allLogits
        self.visit = visit
    }

    /// Every token is in a pass (the last may still be running).
    var isScheduled: Bool { entry == batch.count }

    /// Tokens not yet in a pass.
    var remaining: Int {
        guard !isScheduled else { return 0 }
        return batch[entry...].reduce(0) { $0 + $1.tokens.count } - offset
    }
}

/// The pending evaluations of one model and who leads them (all guarded by `condition`).
final class SharedPasses: @unchecked Sendable {
    let condition = Condition()
    var pending: [PendingEvaluation] = []
    var leading = false
    /// Evaluations the last round served, and how long its pass took (seconds).
    var lastRoundSize = 1
    var lastPassSeconds = 0.0
    /// Passes run, and (evaluation, pass) pairs served: their ratio is how many callers a pass
    /// served on average (PassStatistics).
    var passes = 0
    var servedEvaluations = 0
    var largestRound = 0
}

/// How the model's passes were shared so far.
public struct PassStatistics: Sendable, Equatable {
    /// Forward passes run.
    public var passes: Int
    /// Sum over passes of the evaluations (callers) each served.
    public var servedEvaluations: Int
    /// The most callers one pass served.
    public var largestRound: Int
}

extension Model {
    public var passStatistics: PassStatistics {
        shared.condition.lock()
        defer { shared.condition.unlock() }
        return PassStatistics(passes: shared.passes, servedEvaluations: shared.servedEvaluations, largestRound: shared.largestRound)
    }

    /// Runs `evaluation` in passes shared with whatever other threads evaluate now; returns when
    /// all of its tokens are in their caches and its logits visited.
    func evaluateShared(_ evaluation: PendingEvaluation) {
        let shared = self.shared
        shared.condition.lock()
        shared.pending.append(evaluation)
        shared.condition.broadcast()  // a gathering leader counts it
        while !evaluation.isDone {
            if shared.leading {
                shared.condition.wait()
                continue
            }
            shared.leading = true
            while !evaluation.isDone { leadRound() }
            shared.leading = false
            shared.condition.broadcast()  // a waiting caller with work left leads next
        }
        shared.condition.unlock()
    }

    /// One round, called with `shared.condition` held and `shared.leading` set: gathers, runs one
    /// pass without the condition held, and wakes the callers it finished.
    private func leadRound() {
        let shared = self.shared
        let window = min(0.005, max(0.0002, shared.lastPassSeconds / 4))
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(window * 1e9)
        while shared.pending.count < shared.lastRoundSize {
            let now = DispatchTime.now().uptimeNanoseconds
            guard now < deadline else { break }
            shared.condition.wait(seconds: Double(deadline - now) / 1e9)
        }
        // The pass lock first (a hidden-states pass may hold it), then what is pending by then,
        // fewest tokens left first (stable: arrival order among equals).
        shared.condition.unlock()
        lock.lock()
        shared.condition.lock()
        let round = shared.pending.enumerated().map { (remaining: $0.element.remaining, arrival: $0.offset, evaluation: $0.element) }
            .sorted { ($0.remaining, $0.arrival) < ($1.remaining, $1.arrival) }.map(\.evaluation)
        shared.condition.unlock()
        let started = DispatchTime.now().uptimeNanoseconds
        let served = runPass(round)
        lock.unlock()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        shared.condition.lock()
        for evaluation in round where evaluation.isScheduled {
            evaluation.isDone = true
            evaluation.visit = nil
        }
        shared.pending.removeAll { $0.isScheduled }
        shared.lastRoundSize = max(1, served)
        shared.lastPassSeconds = seconds
        shared.passes += 1
        shared.servedEvaluations += served
        shared.largestRound = max(shared.largestRound, served)
        shared.condition.broadcast()
    }

    /// One forward pass over as many of `round`'s next tokens as fit, in order; returns how many
    /// evaluations it served. An evaluation whose cache another one in the pass also names waits
    /// for the next pass (one writer per cache and pass). Called with `lock` held.
    private func runPass(_ round: [PendingEvaluation]) -> Int {
        let state = transformer.state
        var count = 0
        state.logitEntries.removeAll(keepingCapacity: true)
        var rowOwners: [(evaluation: PendingEvaluation, entry: Int, token: Int)] = []
        var owners: [(evaluation: PendingEvaluation, entry: Int, first: Int, count: Int)] = []
        var cachesInPass = Set<ObjectIdentifier>()
        var served = 0
        for evaluation in round where count < state.batchCapacity && !evaluation.isScheduled {
            guard cachesInPass.isDisjoint(with: evaluation.caches) else { continue }
            cachesInPass.formUnion(evaluation.caches)
            served += 1
            while count < state.batchCapacity && !evaluation.isScheduled {
                let entry = evaluation.batch[evaluation.entry]
                let take = min(state.batchCapacity - count, entry.tokens.count - evaluation.offset)
                for j in 0..<take {
                    state.tokens[count + j] = entry.tokens[evaluation.offset + j]
                    state.positions[count + j] = entry.cache.length + j
                    state.caches[count + j] = entry.cache
                    if evaluation.allLogits {
                        state.logitEntries.append(count + j)
                        rowOwners.append((evaluation, evaluation.entry, evaluation.offset + j))
                    }
                }
                owners.append((evaluation, evaluation.entry, evaluation.offset, take))
                count += take
                evaluation.offset += take
                if evaluation.offset == entry.tokens.count {
                    if !evaluation.allLogits {
                        state.logitEntries.append(count - 1)
                        rowOwners.append((evaluation, evaluation.entry, entry.tokens.count - 1))
                    }
                    evaluation.entry += 1
                    evaluation.offset = 0
                }
            }
        }
        transformer.forward(count: count, onLogits: { row, logits in
            let owner = rowOwners[row]
            owner.evaluation.visit?(owner.entry, owner.token, logits)
        })
        for owner in owners {
            let entry = owner.evaluation.batch[owner.entry]
            entry.cache.append(entry.tokens[owner.first..<(owner.first + owner.count)])
        }
        clearCacheReferences()
        return served
    }
}
