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

    # Every agent the daemon knows, by name.
    method List() -> (agents: []Agent)

    # No agent of that name is declared.
    error AgentNotFound (agent: string)
    # A parameter's value is not acceptable: which one, and why.
    error InvalidInput (field: string, reason: string)
    # The daemon is stopping and takes no new work.
    error ShuttingDown ()
    """

    public static let admin = """
    # Kanso's administration: status, reload. Callable by root and the admin group only.
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

    # The memory budget the pool stays inside.
    type Budget (
      # bytes the loaded models may occupy
      bytes: int,
      # bytes resident in workers now
      usedBytes: int,
      # where the figure came from: configured, cgroup memory.max, or MemTotal
      source: string
    )

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
      problems: []ManifestProblem,
      budget: Budget,
      # connections open now, and calls answered since start
      connections: int,
      calls: int,
      # when the manifests were last read, seconds since the epoch
      loadedAt: float
    )

    # Re-reads the manifests; connections and requests in flight carry on.
    method Reload() -> (
      agents: int,
      added: []string,
      removed: []string,
      problems: []ManifestProblem
    )

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
