/// The internal interface between the supervisor and a worker process (DESIGN.md, Processes):
/// the same Varlink framing over a socketpair, so the project has one protocol codec. Never
/// served on the public socket.
public enum WorkerInterface {
    public static let name = "io.kanso.Worker"
    public static let load = "io.kanso.Worker.Load"
    public static let generate = "io.kanso.Worker.Generate"
    public static let classify = "io.kanso.Worker.Classify"
    public static let nextWords = "io.kanso.Worker.NextWords"
    /// Oneway, read out of band while a job runs: stop the running job at the next token.
    public static let cancel = "io.kanso.Worker.Cancel"

    public static let description = """
    # Supervisor ⇄ worker. One worker holds one model; jobs run one at a time, Cancel is read
    # while a job runs and stops it at the next token boundary.
    interface io.kanso.Worker

    type Sampling (temperature: ?float, topK: ?int, topP: ?float, minP: ?float, repeatPenalty: ?float, seed: ?int)
    type Word (word: string, probability: float)
    # The most tokens the request's text may have: longer text is refused as InvalidInput, or cut
    # from the front where truncate is set.
    type InputLimit (maxTokens: int, truncate: bool)
    # A worked example of a classify agent: a text and its label.
    type Example (text: string, label: string)

    # packedCacheDirectory: where packed weights and tokenizer tables are kept between loads
    # (none: built in memory). packedWeights and tokenizerTables say where this load's came
    # from; writingPackedCache, that a cache file is being written, which the worker finishes
    # before it exits. kvCache: how caches store keys and values (f16, q8_0, f32; default f16).
    method Load(path: string, threads: int, contextLength: ?int, packedCacheDirectory: ?string, kvCache: ?string) -> (
      architecture: string, parameterCount: int, contextLength: int, vocabularySize: int,
      loadMilliseconds: float, packedWeights: ?string, tokenizerTables: ?string, writingPackedCache: ?bool
    )
    # prefix is the agent's fixed prompt text before the request's text; it is computed once
    # and reused. chat: prefix and suffix are a chat template's rendering, whose control-token
    # texts are tokens (never in text). inputLimit: the longest text the agent accepts, in tokens.
    # With more, each token comes as a reply; the last one has done = true. reproducible: the
    # request's numbers do not depend on the requests decoded beside it (batch kernels only).
    method Generate(prefix: string, text: string, suffix: string, chat: ?bool, maxTokens: int, stop: []string,
                    sampling: Sampling, schema: ?object, inputLimit: ?InputLimit, reproducible: ?bool) -> (
      text: string, done: bool, stopReason: ?string, promptTokens: int, reusedPromptTokens: int,
      generatedTokens: int, milliseconds: float
    )
    # examples: the agent's labelled texts; with them the worker answers from a head trained on
    # the model's hidden states of the examples (cached in packedCacheDirectory), else from the
    # label likelihoods calibrated by the prompt's content-free prior. answeredBy: "head" or
    # "calibrated likelihoods"; head: where the head reads the model and where it came from.
    method Classify(prefix: string, text: string, suffix: string, chat: ?bool, labels: []string, inputLimit: ?InputLimit,
                    examples: ?[]Example, reproducible: ?bool) -> (
      logLikelihoods: []float, probabilities: []float, promptTokens: int, reusedPromptTokens: int,
      milliseconds: float, answeredBy: ?string, head: ?string
    )
    method NextWords(prefix: string, text: string, suffix: ?string, chat: ?bool, count: int, inputLimit: ?InputLimit,
                     reproducible: ?bool) -> (
      words: []Word, milliseconds: float
    )
    method Cancel() -> ()

    error LoadFailed (path: string, reason: string)
    error InvalidInput (field: string, reason: string)
    error Cancelled ()
    """
}

/// Sampling settings as an agent's manifest gives them (`[sampling]`) and the worker protocol
/// carries them (`Sampling`); nil fields take the engine's defaults.
public struct SamplingParameters: Codable, Sendable, Equatable {
    public var temperature: Double?
    public var topK: Int?
    public var topP: Double?
    public var minP: Double?
    public var repeatPenalty: Double?
    public var seed: Int?
    public init(temperature: Double? = nil, topK: Int? = nil, topP: Double? = nil, minP: Double? = nil,
                repeatPenalty: Double? = nil, seed: Int? = nil) {
        self.temperature = temperature
        self.topK = topK
        self.topP = topP
        self.minP = minP
        self.repeatPenalty = repeatPenalty
        self.seed = seed
    }
}

public struct WorkerLoadParameters: Codable, Sendable {
    public var path: String
    public var threads: Int
    public var contextLength: Int?
    /// The folder of packed-weight cache files (KansoEngine's PackedWeightCache); nil packs in
    /// memory at every load.
    public var packedCacheDirectory: String?
    /// The KV cache's type ("f16", "q8_0", "f32"); nil: f16.
    public var kvCache: String?
    public init(path: String, threads: Int, contextLength: Int?, packedCacheDirectory: String? = nil, kvCache: String? = nil) {
        self.path = path
        self.threads = threads
        self.contextLength = contextLength
        self.packedCacheDirectory = packedCacheDirectory
        self.kvCache = kvCache
    }
}

/// The most tokens a request's text may have (its agent's `max_input_tokens`), and whether longer
/// text is cut from the front (`truncate`) instead of refused.
public struct WorkerInputLimit: Codable, Sendable, Equatable {
    public var maxTokens: Int
    public var truncate: Bool
    public init(maxTokens: Int, truncate: Bool) {
        self.maxTokens = maxTokens
        self.truncate = truncate
    }
}

public struct WorkerLoadReply: Codable, Sendable {
    public var architecture: String
    public var parameterCount: Int
    public var contextLength: Int
    public var vocabularySize: Int
    public var loadMilliseconds: Double
    /// Where the packed weights came from ("mapped from …", "packed at load, writing …", …).
    public var packedWeights: String?
    /// Where the tokenizer's tables came from ("read from …", "built at load, writing …", …).
    public var tokenizerTables: String?
    /// Whether the worker is writing a cache file (packed weights, tokenizer tables) in the
    /// background, which it finishes before it exits.
    public var writingPackedCache: Bool?
    public init(architecture: String, parameterCount: Int, contextLength: Int, vocabularySize: Int, loadMilliseconds: Double,
                packedWeights: String? = nil, tokenizerTables: String? = nil, writingPackedCache: Bool? = nil) {
        self.architecture = architecture
        self.parameterCount = parameterCount
        self.contextLength = contextLength
        self.vocabularySize = vocabularySize
        self.loadMilliseconds = loadMilliseconds
        self.packedWeights = packedWeights
        self.tokenizerTables = tokenizerTables
        self.writingPackedCache = writingPackedCache
    }
}

public struct WorkerGenerateParameters: Codable, Sendable {
    public var prefix: String
    public var text: String
    public var suffix: String
    /// prefix and suffix are a chat template's rendering (their control-token texts are tokens).
    public var chat: Bool?
    public var maxTokens: Int
    public var stop: [String]
    public var sampling: SamplingParameters
    public var schema: JSONValue?
    public var inputLimit: WorkerInputLimit?
    /// Its numbers do not depend on the requests decoded beside it (the agent's `reproducible`).
    public var reproducible: Bool?
    public init(prefix: String, text: String, suffix: String, chat: Bool? = nil, maxTokens: Int, stop: [String],
                sampling: SamplingParameters, schema: JSONValue? = nil, inputLimit: WorkerInputLimit? = nil,
                reproducible: Bool? = nil) {
        self.reproducible = reproducible
        self.prefix = prefix
        self.text = text
        self.suffix = suffix
        self.chat = chat
        self.maxTokens = maxTokens
        self.stop = stop
        self.sampling = sampling
        self.schema = schema
        self.inputLimit = inputLimit
    }
}

/// One streamed piece of a generation, or (done = true) its end with the totals.
public struct WorkerGenerateReply: Codable, Sendable, Equatable {
    public var text: String
    public var done: Bool
    public var stopReason: String?
    public var promptTokens: Int
    public var reusedPromptTokens: Int
    public var generatedTokens: Int
    public var milliseconds: Double
    public init(text: String, done: Bool, stopReason: String?, promptTokens: Int, reusedPromptTokens: Int,
                generatedTokens: Int, milliseconds: Double) {
        self.text = text
        self.done = done
        self.stopReason = stopReason
        self.promptTokens = promptTokens
        self.reusedPromptTokens = reusedPromptTokens
        self.generatedTokens = generatedTokens
        self.milliseconds = milliseconds
    }
}

/// A classify agent's worked example as the worker trains its head on it.
public struct WorkerExample: Codable, Sendable, Equatable {
    public var text: String
    public var label: String
    public init(text: String, label: String) {
        self.text = text
        self.label = label
    }
}

public struct WorkerClassifyParameters: Codable, Sendable {
    public var prefix: String
    public var text: String
    public var suffix: String
    public var chat: Bool?
    public var labels: [String]
    public var inputLimit: WorkerInputLimit?
    /// The agent's labelled examples: the head's training data (nil or empty: no head).
    public var examples: [WorkerExample]?
    public var reproducible: Bool?
    public init(prefix: String, text: String, suffix: String, chat: Bool? = nil, labels: [String], inputLimit: WorkerInputLimit? = nil,
                examples: [WorkerExample]? = nil, reproducible: Bool? = nil) {
        self.reproducible = reproducible
        self.prefix = prefix
        self.text = text
        self.suffix = suffix
        self.chat = chat
        self.labels = labels
        self.inputLimit = inputLimit
        self.examples = examples
    }
}

public struct WorkerClassifyReply: Codable, Sendable {
    /// ln p(label | prompt), summed over the label's tokens, in label order.
    public var logLikelihoods: [Double]
    /// softmax of logLikelihoods over the labels: sums to 1.
    public var probabilities: [Double]
    public var promptTokens: Int
    public var reusedPromptTokens: Int
    public var milliseconds: Double
    /// "head" (the examples' classifier head) or "calibrated likelihoods".
    public var answeredBy: String?
    /// The head: where it reads the model and whether it was trained now or read from the cache.
    public var head: String?
    public init(logLikelihoods: [Double], probabilities: [Double], promptTokens: Int, reusedPromptTokens: Int, milliseconds: Double,
                answeredBy: String? = nil, head: String? = nil) {
        self.logLikelihoods = logLikelihoods
        self.probabilities = probabilities
        self.promptTokens = promptTokens
        self.reusedPromptTokens = reusedPromptTokens
        self.milliseconds = milliseconds
        self.answeredBy = answeredBy
        self.head = head
    }
}

public struct WorkerNextWordsParameters: Codable, Sendable {
    public var prefix: String
    public var text: String
    public var suffix: String?
    public var chat: Bool?
    public var count: Int
    public var inputLimit: WorkerInputLimit?
    public var reproducible: Bool?
    public init(prefix: String, text: String, suffix: String? = nil, chat: Bool? = nil, count: Int, inputLimit: WorkerInputLimit? = nil,
                reproducible: Bool? = nil) {
        self.reproducible = reproducible
        self.prefix = prefix
        self.text = text
        self.suffix = suffix
        self.chat = chat
        self.count = count
        self.inputLimit = inputLimit
    }
}

public struct WordCandidate: Codable, Sendable, Equatable {
    public var word: String
    public var probability: Double
    public init(word: String, probability: Double) {
        self.word = word
        self.probability = probability
    }
}

public struct WorkerNextWordsReply: Codable, Sendable {
    public var words: [WordCandidate]
    public var milliseconds: Double
    public init(words: [WordCandidate], milliseconds: Double) {
        self.words = words
        self.milliseconds = milliseconds
    }
}
