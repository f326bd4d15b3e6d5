import KansoGGUF
import KansoConcurrency
import Dispatch
import Glibc
import KansoEngine
import KansoWire
import Logging

/// The worker process's side of `io.kanso.Worker`: it loads one model and runs the jobs of all
/// its lanes (WorkerLane) at once, each on its lane's thread with its own KV cache, sampler and
/// grammar; their evaluations share the model's passes (continuous batching). What jobs share
/// (prefix caches, compiled schemas, the token masker, classifier heads) is guarded by locks.
/// `cancel(lane:)` may be called from another thread while a job runs; the lane's job stops at
/// its next token and answers `io.kanso.Worker.Cancelled`, and the other lanes' jobs go on.
final class WorkerService: @unchecked Sendable {  // `model`…`classifier`, `grammars`, `masker` and `cancelled` guarded by `lock`
    private var model: Model?
    private var prefixes: PrefixCacheStore?
    /// Compiled schemas by their JSON text (one per extract agent), and the token masker of the
    /// loaded model's vocabulary, built on first use.
    private var grammars: [String: SchemaGrammar] = [:]
    private var masker: TokenMasker?
    /// Classify agents' heads and calibrations for the loaded model.
    private var classifier: AgentClassifier?
    private let lock = Lock()
    /// Per lane (WorkerLane.index): its job was asked to stop.
    private var cancelled: [Bool]
    private let logger = Logger(label: "kansod-worker")

    init(laneCount: Int = 1) {
        cancelled = Array(repeating: false, count: max(1, laneCount))
    }

    func cancel(lane: WorkerLane) {
        lock.lock(); defer { lock.unlock() }
        if cancelled.indices.contains(lane.index) { cancelled[lane.index] = true }
    }

    private func isCancelled(_ lane: WorkerLane) -> Bool {
        lock.lock(); defer { lock.unlock() }
        return cancelled.indices.contains(lane.index) && cancelled[lane.index]
    }

    /// At a token boundary of `lane`'s generation: whether it goes on.
    private func continueAfterToken(_ lane: WorkerLane) -> Bool { !isCancelled(lane) }

    /// Answers one request of `lane`; `reply` sends one reply's bytes (several for a streamed
    /// Generate). Every failure is a `WorkerError`, encoded in one place (`WorkerError.varlinkError`).
    func handle(_ request: WorkerRequest, lane: WorkerLane = .main, reply: ([UInt8]) -> Void) {
        lock.lock(); if cancelled.indices.contains(lane.index) { cancelled[lane.index] = false }; lock.unlock()
        do {
            switch request {
            case .load(let parameters): reply(try Self.frame(load(parameters)))
            case .generate(let parameters, let streaming): try generate(parameters, streaming: streaming, lane: lane, reply: reply)
            case .classify(let parameters): reply(try Self.frame(classify(parameters)))
            case .nextWords(let parameters): reply(try Self.frame(nextWords(parameters)))
            case .cancel: cancel(lane: lane)
            }
        } catch let error as WorkerError {
            reply(Self.frame(error))
        } catch let error as TaskError {
            reply(Self.frame(.invalidInput(field: "text", reason: error.description)))
        } catch {
            reply(Self.frame(.invalidInput(field: "model", reason: "\(error)")))
        }
    }

    /// A successful reply's bytes, straight from the typed reply.
    static func frame<Reply: Encodable>(_ value: Reply, continues: Bool = false) throws -> [UInt8] {
        try VarlinkCodec.replyFrame(value, continues: continues)
    }

    static func frame(_ error: WorkerError) -> [UInt8] {
        (try? VarlinkReply(error: error.varlinkError).encoded()) ?? []
    }

    private func loadedModel() throws -> (Model, PrefixCacheStore) {
        lock.lock(); defer { lock.unlock() }
        guard let model, let prefixes else {
            throw WorkerError.loadFailed(path: "", reason: "no model loaded")
        }
        return (model, prefixes)
    }

    private func load(_ parameters: WorkerLoadParameters) throws -> WorkerLoadReply {
        let started = ContinuousClock.now
        do {
            let file = try GGUFFile(path: parameters.path)
            let cache = parameters.packedCacheDirectory.map(PackedWeightCache.init(directory:))
            let cacheType = try parameters.kvCache.map { name in
                guard let type = KVCacheType(name: name) else { throw TaskError.unknownCacheType(name) }
                return type
            } ?? .f16
            let model = try Model(file: file, threads: max(1, parameters.threads), contextLength: parameters.contextLength,
                                  cacheType: cacheType, packedCache: cache)
            let prefixes = PrefixCacheStore(model: model)
            lock.withLock {
                self.model = model
                self.prefixes = prefixes
                classifier = AgentClassifier(model: model, prefixes: prefixes, cache: cache, modelPath: parameters.path)
            }
            reportPackedCache(of: model, path: parameters.path)
            let parameterCount = file.tensors.reduce(0) { $0 + $1.elementCount }
            return WorkerLoadReply(architecture: model.configuration.architecture.rawValue, parameterCount: parameterCount,
                                   contextLength: model.configuration.contextLength,
                                   vocabularySize: model.configuration.vocabularySize,
                                   loadMilliseconds: Self.milliseconds(since: started),
                                   packedWeights: model.packedWeights.description,
                                   tokenizerTables: model.tokenizerTables.description,
                                   writingPackedCache: model.packedWeights.isBeingWritten || model.tokenizerTables.isBeingWritten)
        } catch {
            // A file that can never load says so, and the pool does not try it again until it changes.
            if LoadFailure.recurs(error) { throw WorkerError.modelUnusable(path: parameters.path, reason: "\(error)") }
            throw WorkerError.loadFailed(path: parameters.path, reason: "\(error)")
        }
    }

    /// Hands back what the last requests committed beyond the model itself (scratch, freed heap),
    /// when the worker has been idle a while.
    func releaseIdleMemory() {
        lock.withLock { model }?.releaseIdleMemory()
    }

    /// The request's text within its agent's input limit: as given, cut from the front to the
    /// limit's last tokens (`truncate`), or refused.
    private func limited(_ text: String, _ limit: WorkerInputLimit?, model: Model) throws -> String {
        guard let limit else { return text }
        let tokenizer = model.tokenizer
        let count = tokenizer.encode(text, addSpecial: false, parseSpecial: false).count
        guard count > limit.maxTokens else { return text }
        guard limit.truncate else { throw TaskError.inputOverLimit(tokens: count, limit: limit.maxTokens) }
        // The shortest cut (at a character) that leaves at most the limit: tokens only grow with the text kept.
        let characters = Array(text)
        var low = 0, high = characters.count  // cutting `high` characters always fits
        while low < high {
            let middle = (low + high) / 2
            if tokenizer.encode(String(characters[middle...]), addSpecial: false, parseSpecial: false).count <= limit.maxTokens {
                high = middle
            } else {
                low = middle + 1
            }
        }
        return String(characters[high...])
    }

    /// Waits for the loaded model's packed-weight cache file, if one is being written.
    func finishBackgroundWork() {
        _ = lock.withLock { model }?.waitForPackedCache()
    }

    /// Logs how the cache files being written for this load ended (their writers run in the background).
    private func reportPackedCache(of model: Model, path: String) {
        guard model.packedWeights.isBeingWritten || model.tokenizerTables.isBeingWritten else { return }
        DispatchQueue.global(qos: .utility).async { [logger] in
            switch model.waitForPackedCache() {
            case .cacheWritten(let cachePath):
                logger.info("packed weights of \(path) written to \(cachePath)", metadata: ["model": .string(path), "cache": .string(cachePath)])
            case .cacheFailed(let error):
                logger.warning("packed weights of \(path) not cached: \(error)", metadata: ["model": .string(path), "cache": .string(error.path)])
            default: break
            }
            switch model.tokenizerTables {
            case .cacheWritten(let cachePath):
                logger.info("tokenizer tables of \(path) written to \(cachePath)", metadata: ["model": .string(path), "cache": .string(cachePath)])
            case .cacheFailed(let error):
                logger.warning("tokenizer tables of \(path) not cached: \(error)", metadata: ["model": .string(path), "cache": .string(error.path)])
            default: break
            }
        }
    }

    private func classify(_ parameters: WorkerClassifyParameters) throws -> WorkerClassifyReply {
        let (model, prefixes) = try loadedModel()
        let started = ContinuousClock.now
        let prompt = PromptText(prefix: parameters.prefix, text: try limited(parameters.text, parameters.inputLimit, model: model), suffix: parameters.suffix, chat: parameters.chat ?? false,
                                reproducible: parameters.reproducible ?? false)
        let classifier = lock.withLock { self.classifier } ?? AgentClassifier(model: model, prefixes: prefixes, cache: nil, modelPath: "")
        return try classifier.classify(prompt: prompt, labels: parameters.labels, examples: parameters.examples ?? [], started: started)
    }

    private func nextWords(_ parameters: WorkerNextWordsParameters) throws -> WorkerNextWordsReply {
        let (model, prefixes) = try loadedModel()
        let started = ContinuousClock.now
        let prompt = PromptText(prefix: parameters.prefix, text: try limited(parameters.text, parameters.inputLimit, model: model), suffix: parameters.suffix ?? "", chat: parameters.chat ?? false,
                                reproducible: parameters.reproducible ?? false)
        let words = try NextWordPredictor(model: model, prefixes: prefixes).predict(prompt: prompt, count: max(1, parameters.count))
        return WorkerNextWordsReply(words: words.map { WordCandidate(word: $0.0, probability: $0.1) },
                                    milliseconds: Self.milliseconds(since: started))
    }

    private func generate(_ parameters: WorkerGenerateParameters, streaming: Bool, lane: WorkerLane, reply: ([UInt8]) -> Void) throws {
        let (model, prefixes) = try loadedModel()
        let started = ContinuousClock.now
        let prompt = PromptText(prefix: parameters.prefix, text: try limited(parameters.text, parameters.inputLimit, model: model), suffix: parameters.suffix, chat: parameters.chat ?? false,
                                reproducible: parameters.reproducible ?? false)
        let tokens = prompt.tokens(model.tokenizer)
        let capacity = min(model.configuration.contextLength, tokens.count + max(1, parameters.maxTokens))
        guard tokens.count < model.configuration.contextLength else {
            throw TaskError.inputTooLong(tokens: tokens.count + 1, limit: model.configuration.contextLength)
        }
        let (cache, reused) = try prefixes.workingCache(for: prompt, tokens: tokens, capacity: capacity)
        if let schema = parameters.schema {
            try extract(schema: schema, sourceText: prompt.text, parameters: parameters, model: model, tokens: tokens, cache: cache,
                        reused: reused, started: started, lane: lane, reply: reply)
            return
        }
        var generator = Generator(model: model, sampler: SamplerChain(settings: Self.settings(parameters.sampling)),
                                  maximumTokens: max(1, parameters.maxTokens))
        var filter = StopStringFilter(stops: parameters.stop)
        var text = ""
        var wasCancelled = false
        let result = try generator.generate(prompt: tokens, in: cache) { token in
            let shown = filter.append(token.text)
            text += shown
            if streaming, !shown.isEmpty {
                reply(try Self.frame(WorkerGenerateReply(text: shown, done: false, stopReason: nil, promptTokens: tokens.count,
                                                         reusedPromptTokens: reused, generatedTokens: 0, milliseconds: 0),
                                     continues: true))
            }
            guard continueAfterToken(lane) else { wasCancelled = true; return false }
            return !filter.stopped
        }
        if wasCancelled { throw WorkerError.cancelled }
        let tail = filter.finish()
        text += tail
        let reason: String
        switch result.stopReason {
        case .endOfGeneration: reason = "end"
        case .maximumTokens: reason = "maxTokens"
        case .contextFull: reason = "contextFull"
        case .stopped: reason = filter.stopped ? "stopString" : "stopped"
        }
        let final = WorkerGenerateReply(text: streaming ? tail : text, done: true, stopReason: reason,
                                        promptTokens: tokens.count, reusedPromptTokens: max(reused, result.reusedPromptTokens),
                                        generatedTokens: result.tokens.count, milliseconds: Self.milliseconds(since: started))
        reply(try Self.frame(final))
    }

    /// Extraction: decoding under the schema's grammar, so the text always parses and validates.
    private func extract(schema: JSONValue, sourceText: String, parameters: WorkerGenerateParameters, model: Model, tokens: [Int32],
                         cache: KVCache, reused: Int, started: ContinuousClock.Instant, lane: WorkerLane,
                         reply: ([UInt8]) -> Void) throws {
        let schemaText = schema.compactJSON
        let grammar: SchemaGrammar
        if let compiled = lock.withLock({ grammars[schemaText] }) {
            grammar = compiled
        } else {
            do {
                grammar = try ExtractionSchema.compile(schema)
            } catch {
                throw WorkerError.invalidInput(field: "schema", reason: "\(error)")
            }
            lock.withLock { grammars[schemaText] = grammar }
        }
        // Fields copied from the text (x-kanso-from-text) may spell only spans of this request's text.
        let bound = grammar.needsSourceText ? grammar.bound(toText: sourceText) : grammar
        let masker = lock.withLock {
            let masker = self.masker ?? TokenMasker(tokenizer: model.tokenizer)
            self.masker = masker
            return masker
        }
        var decoder = ConstrainedDecoder(model: model, grammar: bound, masker: masker,
                                         sampler: SamplerChain(settings: Self.settings(parameters.sampling)),
                                         maximumTokens: max(1, parameters.maxTokens))
        let result: ConstrainedResult
        do {
            result = try decoder.decode(prompt: tokens, in: cache) { _ in self.continueAfterToken(lane) }
        } catch ConstrainedDecodingError.stopped {
            throw WorkerError.cancelled
        } catch ConstrainedDecodingError.incomplete(_, let count) {
            throw WorkerError.invalidInput(field: "max_tokens",
                                           reason: "the value was not complete after \(count) tokens; raise the agent's max_tokens")
        }
        let final = WorkerGenerateReply(text: result.text, done: true, stopReason: "end", promptTokens: tokens.count,
                                        reusedPromptTokens: max(reused, result.reusedPromptTokens),
                                        generatedTokens: result.tokens.count, milliseconds: Self.milliseconds(since: started))
        reply(try Self.frame(final))
    }

    static func settings(_ sampling: SamplingParameters) -> SamplingSettings {
        var settings = SamplingSettings()
        if let value = sampling.temperature { settings.temperature = Float(value) }
        if let value = sampling.topK { settings.topK = value }
        if let value = sampling.topP { settings.topP = Float(value) }
        if let value = sampling.minP { settings.minP = Float(value) }
        if let value = sampling.repeatPenalty { settings.repetitionPenalty = Float(value) }
        settings.seed = sampling.seed.map { UInt64(bitPattern: Int64($0)) } ?? UInt64.random(in: 0...UInt64.max)
        return settings
    }

    static func milliseconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }
}
