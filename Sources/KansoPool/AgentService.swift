import KansoGGUF
import KansoConcurrency
import SystemPackage
import Glibc
import KansoWire
import Logging

/// The three jobs as the socket offers them (DESIGN.md, `io.kanso.Agents`): it finds the agent,
/// checks the input, leases its model's worker from the pool, renders the agent's prompt, runs
/// the job on the worker, and for classification applies the escalation rule.
public final class AgentService: Sendable {
    public let registry: AgentRegistry
    public let pool: ModelPool
    private let logger: Logger
    private let estimates = EstimateCache()
    /// Energy of each request from the worker's CPU time (or RAPL where readable).
    private let meter: EnergyMeter?

    /// Bytes a worker process costs beyond its model (runtime, libraries, thread stacks, the
    /// load's heap): a little more than an idle worker measures (bench/README.md), so the estimate
    /// errs on the high side and a first load does not overshoot the budget.
    static let workerOverheadBytes = 16 << 20
    /// Tokens of one forward pass in a worker (the engine's default batch capacity): the scratch
    /// the estimate allows for.
    static let promptBatchTokens = 64

    public init(registry: AgentRegistry, pool: ModelPool, logger: Logger, meter: EnergyMeter?) {
        self.registry = registry
        self.pool = pool
        self.logger = logger
        self.meter = meter
    }

    // MARK: Jobs

    /// The most likely next whole words after `text`.
    public func nextWords(agent name: String, text: String, count: Int) async throws -> PredictReply {
        guard (1...50).contains(count) else { throw PoolError.invalidInput(field: "words", reason: "expected 1 to 50, got \(count)") }
        let (manifest, _, prompt) = try await resolve(name, task: .predict)
        let parameters = WorkerNextWordsParameters(prefix: prompt.prefix, text: text, suffix: prompt.suffix, chat: prompt.chat,
                                                   count: count, inputLimit: Self.inputLimit(manifest),
                                                   reproducible: manifest.reproducible)
        let words = try await runSingle(manifest, .nextWords(parameters), WorkerNextWordsReply.self).words
        return PredictReply(agent: manifest.name, words: words, done: true)
    }

    /// A continuation of `text`; `onText` receives each piece as it is generated (return false to
    /// stop). Returns the final reply (the text the pieces did not carry, and the totals).
    public func generate(agent name: String, text: String, maxTokens: Int?, streaming: Bool,
                         onText: @Sendable (String) async throws -> Void) async throws -> PredictReply {
        let (manifest, _, prompt) = try await resolve(name, task: .predict)
        // The model's context was sized for the agent's max_tokens (AgentDemand): no more.
        let allowed = AgentDemand.maximumOutputTokens(manifest)
        if let maxTokens, !(1...allowed).contains(maxTokens) {
            throw PoolError.invalidInput(field: "maxTokens", reason: "expected 1 to \(allowed) (the agent's max_tokens), got \(maxTokens)")
        }
        let parameters = WorkerGenerateParameters(prefix: prompt.prefix, text: text, suffix: prompt.suffix, chat: prompt.chat,
                                                  maxTokens: maxTokens ?? allowed, stop: manifest.stop,
                                                  sampling: manifest.sampling, inputLimit: Self.inputLimit(manifest),
                                                  reproducible: manifest.reproducible)
        var final: WorkerGenerateReply?
        try await withLease(manifest) { lease in
            do {
                for try await reply in await lease.send(.generate(parameters, streaming: streaming)) {
                    let piece = try reply.workerResult(WorkerGenerateReply.self)
                    if piece.done { final = piece } else { try await onText(piece.text) }
                }
                // A cancelled consumer's stream just ends; the worker was told to stop.
                if Task.isCancelled { throw PoolError.cancelled }
            } catch is CancellationError {
                lease.cancel()
                throw PoolError.cancelled
            }
            return final?.generatedTokens ?? 0
        }
        guard let final else { throw PoolError.workerFailed(model: manifest.model, reason: "the worker ended the stream without a result") }
        return PredictReply(agent: manifest.name, text: final.text, done: true, stopReason: final.stopReason,
                            generatedTokens: final.generatedTokens)
    }

    /// Every label's probability; escalates below the agent's threshold.
    public func classify(agent name: String, text: String) async throws -> ClassifyReply {
        let (manifest, _, prompt) = try await resolve(name, task: .classify)
        var reply = try await classifyOnce(manifest, prompt: prompt, text: text)
        guard let threshold = manifest.escalateBelow, reply.confidence < threshold else { return reply }
        guard let target = manifest.escalateTo else {
            reply.needsEscalation = true
            return reply
        }
        logger.info("\(manifest.name): confidence \(reply.confidence) below \(threshold), escalating to \(target)",
                    metadata: ["agent": .string(manifest.name), "escalate_to": .string(target)])
        let (larger, _, largerPrompt) = try await resolve(target, task: .classify)
        var escalated = try await classifyOnce(larger, prompt: largerPrompt, text: text)
        escalated.escalatedFrom = manifest.name
        if let second = larger.escalateBelow, escalated.confidence < second { escalated.needsEscalation = true }
        return escalated
    }

    private func classifyOnce(_ manifest: AgentManifest, prompt: AgentPrompt, text: String) async throws -> ClassifyReply {
        let labels = manifest.labels ?? []
        let parameters = WorkerClassifyParameters(prefix: prompt.prefix, text: text, suffix: prompt.suffix, chat: prompt.chat,
                                                  labels: labels, inputLimit: Self.inputLimit(manifest),
                                                  examples: manifest.examples.map { WorkerExample(text: $0.text, label: $0.answer) },
                                                  reproducible: manifest.reproducible)
        let result = try await runSingle(manifest, .classify(parameters), WorkerClassifyReply.self)
        if let answeredBy = result.answeredBy {
            logger.debug("\(manifest.name): answered by \(answeredBy)\(result.head.map { " (head \($0))" } ?? "")",
                         metadata: ["agent": .string(manifest.name)])
        }
        let scores = zip(labels, result.probabilities).map { LabelScore(label: $0, probability: $1) }
        let best = scores.max { $0.probability < $1.probability } ?? LabelScore(label: "", probability: 0)
        return ClassifyReply(agent: manifest.name, label: best.label, confidence: best.probability, labels: scores,
                             needsEscalation: false, escalatedFrom: nil)
    }

    /// A JSON value valid against the agent's schema.
    public func extract(agent name: String, text: String) async throws -> ExtractReply {
        let (manifest, _, prompt) = try await resolve(name, task: .extract)
        let parameters = WorkerGenerateParameters(prefix: prompt.prefix, text: text, suffix: prompt.suffix, chat: prompt.chat,
                                                  maxTokens: AgentDemand.maximumOutputTokens(manifest), stop: [],
                                                  sampling: SamplingParameters(temperature: manifest.sampling.temperature ?? 0, seed: manifest.sampling.seed),
                                                  schema: manifest.schema, inputLimit: Self.inputLimit(manifest),
                                                  reproducible: manifest.reproducible)
        let result = try await runSingle(manifest, .generate(parameters, streaming: false), WorkerGenerateReply.self)
        do {
            return ExtractReply(agent: manifest.name, value: try JSONText.parse(Array(result.text.utf8)))
        } catch {
            throw PoolError.workerFailed(model: manifest.model, reason: "the output is not valid JSON: \(error)")
        }
    }

    // MARK: Administration

    /// Loads an agent's model now (`kansoctl load`).
    public func load(agent name: String) async throws -> String {
        let (manifest, path, _) = try await resolve(name, task: nil)
        let estimate = try await estimate(path: path)
        try await pool.preload(model: path, fileBytes: estimate.fileBytes, estimatedBytes: estimate.totalBytes, agent: manifest.name,
                               keepAlive: manifest.keepAlive, contextLength: estimate.contextLength, kvCache: estimate.kvCache,
                               variableBytes: estimate.variableBytes)
        return path
    }

    /// Ends an agent's model's worker now (`kansoctl unload`).
    public func unload(agent name: String) async throws -> Bool {
        let (_, path, _) = try await resolve(name, task: nil)
        return await pool.unload(model: path)
    }

    /// Loads every pinned agent's model (keep_alive = "forever"), for start-up.
    public func preloadPinned(progress: @Sendable (String) -> Void) async {
        for entry in await registry.catalog.entries where entry.manifest.keepAlive.isPinned {
            guard case .found = entry.model else { continue }
            progress(entry.manifest.name)
            do {
                _ = try await load(agent: entry.manifest.name)
            } catch {
                logger.error("could not preload pinned agent \(entry.manifest.name): \(error)", metadata: ["agent": .string(entry.manifest.name)])
            }
        }
    }

    // MARK: Plumbing

    /// The agent's manifest, its model's path and its prompt's fixed text.
    private func resolve(_ name: String, task: AgentManifest.Task?) async throws -> (AgentManifest, String, AgentPrompt) {
        guard let entry = await registry.catalog.entry(named: name) else { throw VarlinkError.agentNotFound(name) }
        if let task, entry.manifest.task != task {
            throw PoolError.invalidInput(field: "agent", reason: "agent \(name) does \(entry.manifest.task.rawValue), not \(task.rawValue)")
        }
        switch entry.model {
        case .found(let path, _):
            return (entry.manifest, path, entry.prompt ?? AgentPrompt(raw: entry.manifest.prompt, shots: AgentPrompt.shots(entry.manifest)))
        case .missing(let searched):
            throw PoolError.modelUnavailable(model: entry.manifest.model, reason: "model file not found; searched: " + searched.joined(separator: ", "))
        }
    }

    /// The memory the model at `path` needs for the agents on it now (AgentDemand, MemoryEstimate),
    /// with the context and KV type its worker loads with.
    private func estimate(path: String) async throws -> ModelEstimate {
        let agents = await registry.catalog.entries.compactMap { entry -> AgentDemand? in
            guard case .found(let found, _) = entry.model, found == path else { return nil }
            return AgentDemand(entry.manifest, prompt: entry.prompt)
        }
        let demand = AgentDemand.model(serving: agents, batchSize: Self.promptBatchTokens,
                                       threads: await pool.configuration.threadsPerWorker)
        if let known = estimates.get(path, demand) { return known }
        do {
            let file = try GGUFFile(path: path)
            let memory = GGUFSummary(file: file, demand: demand).memory
            let value = ModelEstimate(fileBytes: file.fileSize, totalBytes: memory.totalBytes + Self.workerOverheadBytes,
                                      variableBytes: memory.variableBytes, sequenceBytes: memory.sequenceBytes,
                                      contextLength: memory.contextLength,
                                      kvCache: memory.kvCacheType)
            estimates.set(path, demand, value)
            return value
        } catch {
            throw PoolError.modelUnavailable(model: FilePath(path).lastComponent?.string ?? path, reason: "cannot read the model: \(error)")
        }
    }

    /// The longest text `manifest`'s agent accepts, for its worker to enforce.
    private static func inputLimit(_ manifest: AgentManifest) -> WorkerInputLimit {
        WorkerInputLimit(maxTokens: AgentDemand.maxInputTokens(manifest), truncate: manifest.truncate)
    }

    /// Leases the agent's model, runs `body`, and releases; a dead worker becomes WorkerFailed.
    private func withLease(_ manifest: AgentManifest, _ body: (ModelPool.Lease) async throws -> Int) async throws {
        let path: String
        switch await registry.catalog.entry(named: manifest.name)?.model {
        case .found(let found, _)?: path = found
        default: throw PoolError.modelUnavailable(model: manifest.model, reason: "model file not found")
        }
        let estimate = try await estimate(path: path)
        let lease = try await pool.acquire(model: path, fileBytes: estimate.fileBytes, estimatedBytes: estimate.totalBytes,
                                           agent: manifest.name, priority: manifest.priority, keepAlive: manifest.keepAlive,
                                           contextLength: estimate.contextLength, kvCache: estimate.kvCache,
                                           variableBytes: estimate.variableBytes, sequenceBytes: estimate.sequenceBytes)
        let before = meter?.sample(processID: lease.pid)
        var tokens = 0
        var failure: Error?
        do {
            tokens = try await body(lease)
        } catch let error as WorkerConnectionError {
            failure = PoolError.workerFailed(model: manifest.model, reason: "\(error)")
        } catch let error as WorkerError {
            failure = PoolError(error, model: manifest.model)
        } catch {
            failure = error
        }
        // The lease ends here, whatever happened (a release is not cancelled with the request).
        let energy = meter.flatMap { meter in before.flatMap { meter.measure(from: $0, to: meter.sample(processID: lease.pid)) } }
        await pool.release(lease, generatedTokens: tokens, energy: energy)
        if let failure { throw failure }
    }

    /// Runs a job that has one reply and reads it as `Result`.
    private func runSingle<Result: Decodable & Sendable>(_ manifest: AgentManifest, _ request: WorkerRequest,
                                                         _ type: Result.Type) async throws -> Result {
        var result: Result?
        try await withLease(manifest) { lease in
            for try await reply in await lease.send(request) { result = try reply.workerResult(Result.self) }
            return 0
        }
        guard let result else { throw PoolError.workerFailed(model: manifest.model, reason: "the worker gave no reply") }
        return result
    }
}

/// What a model costs and how its worker loads, for the agents on it now.
struct ModelEstimate: Sendable {
    var fileBytes: Int
    /// The whole estimate, the worker process included.
    var totalBytes: Int
    /// The part requests add (KV caches, scratch), which a measurement after a load never replaces.
    var variableBytes: Int
    /// What each request run beside the first adds (continuous batching).
    var sequenceBytes: Int
    var contextLength: Int
    var kvCache: KVCacheType
}

/// Model estimates by path and demand, computed once from the GGUF header.
private final class EstimateCache: @unchecked Sendable {  // guarded by `lock`
    private let lock = Lock()
    private var values: [String: (MemoryDemand, ModelEstimate)] = [:]
    func get(_ path: String, _ demand: MemoryDemand) -> ModelEstimate? {
        lock.lock(); defer { lock.unlock() }
        guard let (known, value) = values[path], known == demand else { return nil }
        return value
    }
    func set(_ path: String, _ demand: MemoryDemand, _ value: ModelEstimate) {
        lock.lock(); values[path] = (demand, value); lock.unlock()
    }
}
