/// The Varlink interface definitions Kanso serves (`org.varlink.service.GetInterfaceDescription`).
/// They are the contract: every method the server routes and every error it sends is declared here,
/// and `InterfaceDescriptionTests` checks that the route table and these texts agree.
public enum InterfaceDescriptions {
    public static let service = """
    # Introspection, provided by every Varlink service.
    interface org.varlink.service

    # The service's vendor, product, version, home page and the interfaces it serves.
    method GetInfo() -> (
      vendor: string,
      product: string,
      version: string,
      url: string,
      interfaces: []string
    )

    # The definition text of one interface this service serves.
    method GetInterfaceDescription(interface: string) -> (description: string)

    error InterfaceNotFound (interface: string)
    error MethodNotFound (method: string)
    error MethodNotImplemented (method: string)
    error InvalidParameter (parameter: string)
    error PermissionDenied ()
    error ExpectedMore ()
    """

    public static let agents = """
    # Kanso's specialist agents: small language models that predict, classify and extract.
    interface io.kanso.Agents

    # One agent as declared by its manifest.
    type Agent (
      name: string,
      # predict, classify or extract
      task: string,
      # the model file the manifest names
      model: string,
      # absent, warming, loading, ready, busy, draining, failed, quarantined, or unavailable
      # when its model file is missing
      state: string,
      # interactive, normal or background
      priority: string,
      # how long the model stays loaded after a request: "0", a duration such as "5m", or "forever"
      keepAlive: string,
      description: ?string,
      labels: ?[]string
    )

    # The agents the daemon knows, by name, after the name given. When they do not all fit in
    # one message, next is set: call again with after = next for the rest.
    method List(after: ?string) -> (agents: []Agent, next: ?string)

    # A whole next word and its probability (along its most likely spelling).
    type Word (word: string, probability: float)

    # A label and its probability; the probabilities of one answer sum to 1.
    type LabelScore (label: string, probability: float)

    # Predict: with words, the most likely next whole words after text (for keyboards);
    # otherwise a continuation of text, token by token as replies when called with more.
    method Predict(agent: string, text: string, words: ?int, maxTokens: ?int) -> (
      agent: string,
      words: ?[]Word,
      text: ?string,
      done: bool,
      # end, maxTokens, stopString, contextFull
      stopReason: ?string,
      generatedTokens: ?int
    )

    # Classify: every label of the agent with its probability, and the top one. Below the agent's
    # escalate_below the answer comes from escalate_to when it has one (agent then names it),
    # else it is marked for escalation.
    method Classify(agent: string, text: string) -> (
      agent: string,
      label: string,
      confidence: float,
      labels: []LabelScore,
      needsEscalation: bool,
      escalatedFrom: ?string
    )

    # Extract: a JSON value that is valid against the agent's schema.
    method Extract(agent: string, text: string) -> (agent: string, value: object)

    # No agent of that name is declared.
    error AgentNotFound (agent: string)
    # A parameter's value is not acceptable: which one, and why.
    error InvalidInput (field: string, reason: string)
    # The daemon is stopping and takes no new work.
    error ShuttingDown ()
    # The agent's model cannot be loaded now: missing, failing, quarantined.
    error ModelUnavailable (model: string, reason: string)
    # The model does not fit in the memory budget, now or at all.
    error BudgetExceeded (model: string, neededBytes: int, budgetBytes: int, reason: string)
    # The model's queue is full.
    error Overloaded (model: string, queued: int)
    # The worker process running the request ended (crash, kill, out of memory).
    error WorkerFailed (model: string, reason: string)
    # The request was cancelled (its client went away, or an administrator unloaded the model).
    error Cancelled ()
    """

    public static let admin = """
    # Kanso's administration: status, reload, load, unload, watch. Callable by root, the daemon's
    # own user and the admin group only.
    interface io.kanso.Admin

    # A manifest that could not be loaded: the file, the key at fault (if one), what was expected.
    type ManifestProblem (
      file: string,
      key: ?string,
      message: string
    )

    # One agent with its model's whereabouts.
    type AgentStatus (
      name: string,
      task: string,
      model: string,
      # the model file found on the search path
      modelPath: ?string,
      # the model file's size in bytes
      modelBytes: ?int,
      state: string,
      # why the agent cannot serve, e.g. the places searched for a missing model
      reason: ?string,
      priority: string,
      keepAlive: string,
      manifest: string
    )

    # One model in the pool: its state, memory, agents and figures.
    type ModelStatus (
      path: string,
      # absent, warming, loading, ready, busy, draining, failed, quarantined
      state: string,
      reason: ?string,
      pid: ?int,
      # bytes estimated from the GGUF before loading, and measured from the worker
      estimatedBytes: int,
      measuredBytes: ?int,
      # bytes the budget holds for it: the estimate, or once a load was measured its size after
      # the load plus what requests may add
      chargedBytes: ?int,
      # the context (positions) and KV cache type (f16, q8_0, f32) its worker loads with
      contextLength: ?int,
      kvCache: ?string,
      agents: []string,
      queued: int,
      requests: int,
      generatedTokens: int,
      loadMilliseconds: ?float,
      idleSeconds: ?float,
      # when keep-alive will unload it, seconds from now
      unloadInSeconds: ?float,
      evictions: int,
      lastEvictionReason: ?string,
      # interactive requests that pre-empted a normal or background request running on it
      preemptions: ?int,
      # requests its worker runs now, decoded together, and how many it may run at once
      running: ?int,
      sequences: ?int
    )

    # The power profile in force and what it sets.
    type PowerStatus (
      # ac, battery, low-battery or hot
      profile: string,
      # the readings that chose it, e.g. "battery 18% discharging"
      reason: string,
      threadsPerWorker: int,
      maximumConcurrentWorkers: int,
      keepAliveScale: float,
      backgroundAllowed: bool,
      memoryPressure: bool,
      # the watt cap (--watt-cap), when set
      wattCap: ?WattCap
    )

    # The watt cap: above it the workers are throttled (they run duty of every 100 ms and are
    # stopped the rest) and no background request starts, above 1.5 × it no normal one either.
    # averageWatts is the measured average over the cap's window (null before a measurement);
    # duty is 1 when not throttling; source is "--watt-cap" or the profile whose cap applies.
    type WattCap (capWatts: float, averageWatts: ?float, backgroundPaused: bool, normalPaused: bool, duty: ?float,
                  source: ?string)

    # Energy an agent's requests used: RAPL where readable, else worker CPU time × watts per core.
    type AgentEnergy (agent: string, joules: float, tokens: int, requests: int, tokensPerJoule: ?float)

    # The memory budget the pool stays inside.
    type Budget (
      # bytes the loaded models may occupy
      bytes: int,
      # bytes resident in workers now
      usedBytes: int,
      # where the figure came from: configured, cgroup memory.max, or MemTotal
      source: string,
      # the worker process started ahead for the next load, if one runs, and the bytes it holds
      spareWorkerPid: ?int,
      spareWorkerBytes: ?int
    )

    # How many entries of each list a reply left out to stay within the message limit.
    type Omitted (agents: int, models: int, problems: int, energy: int)

    # The daemon's state.
    method Status() -> (
      version: string,
      pid: int,
      # starting, ready, reloading or stopping
      state: string,
      uptimeSeconds: float,
      # socket-activated or stand-alone
      activation: string,
      socket: string,
      agentsDirectory: string,
      modelSearchPath: []string,
      agents: []AgentStatus,
      models: []ModelStatus,
      problems: []ManifestProblem,
      budget: Budget,
      power: ?PowerStatus,
      energy: []AgentEnergy,
      # connections open now, and calls answered since start
      connections: int,
      calls: int,
      # when the manifests were last read, seconds since the epoch
      loadedAt: float,
      # set when lists were cut to fit the message limit
      omitted: ?Omitted
    )

    # Re-reads the manifests; connections and requests in flight carry on.
    method Reload() -> (
      agents: int,
      added: []string,
      removed: []string,
      problems: []ManifestProblem,
      # problems left out to fit the message limit
      problemsOmitted: ?int
    )

    # Loads an agent's model now (ahead of requests).
    method Load(agent: string) -> (model: string)

    # Ends an agent's model's worker now; a quarantined model may be loaded again after it.
    method Unload(agent: string) -> (unloaded: bool)

    # The pool's events as they happen (call with more): state changes, evictions.
    method Watch() -> (kind: string, model: string, from: ?string, to: ?string, reason: string, time: float)

    # The caller is neither root nor a member of the admin group.
    error PermissionDenied (method: string, uid: int, requiredGroup: string)
    """

    public static let protocolErrors = """
    # Errors about messages that cannot be read as calls at all; the connection stays open.
    interface io.kanso.Protocol

    # The message is not a JSON object with a string "method", or a field has the wrong type.
    error MalformedMessage (reason: string)
    # The message is longer than the daemon accepts; it was skipped up to its terminating NUL.
    error MessageTooLarge (bytes: int, limit: int)
    # Kanso speaks only Varlink on its socket: "upgrade" is refused.
    error UpgradeUnsupported (method: string)
    # The daemon holds as many connections as it allows, in all or for this user ("total" or
    # "user"); the connection is closed. Administrators have places kept for them.
    error TooManyConnections (scope: string, limit: int)
    # A message was begun and not finished within this many seconds; the connection is closed.
    error MessageTimeout (seconds: float)
    # The reply would be longer than the message limit.
    error ReplyTooLarge (bytes: int, limit: int)
    # The call failed inside the daemon for a reason no other error describes.
    error InternalError (reason: string)
    """

    /// Interface name → definition text, for every interface served.
    public static let all: [String: String] = [
        "org.varlink.service": service,
        "io.kanso.Agents": agents,
        "io.kanso.Admin": admin,
        "io.kanso.Protocol": protocolErrors,
    ]

    /// Interface names in the order GetInfo lists them.
    public static let names = ["org.varlink.service", "io.kanso.Agents", "io.kanso.Admin", "io.kanso.Protocol"]
}
