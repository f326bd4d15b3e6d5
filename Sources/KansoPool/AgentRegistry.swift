import Glibc
import KansoWire
import Logging

/// The agents the daemon serves now: the last catalog read from the agents folder, replaced
/// whole on reload so requests in flight keep the manifest they started with.
public actor AgentRegistry {
    public let directory: String
    public let locator: ModelLocator
    private let reader: ManifestReader
    private let logger: Logger
    public private(set) var catalog: AgentCatalog

    /// Reads the folder once; problems are logged and kept for `Status`. `schemaCheck` compiles
    /// extract agents' schemas as the worker will (ManifestReader.SchemaCheck).
    public init(directory: String, locator: ModelLocator, schemaCheck: @escaping ManifestReader.SchemaCheck, logger: Logger) {
        self.directory = directory
        self.locator = locator
        self.reader = ManifestReader(schemaCheck: schemaCheck)
        self.logger = logger
        self.catalog = AgentCatalog.load(directory: directory, locator: locator, reader: reader)
        Self.log(catalog, logger: logger)
    }

    /// What a reload changed.
    public struct ReloadOutcome: Sendable {
        public var added: [String]
        public var removed: [String]
        public var catalog: AgentCatalog
    }

    /// Re-reads the folder and swaps the catalog in.
    public func reload() -> ReloadOutcome {
        let fresh = AgentCatalog.load(directory: directory, locator: locator, reader: reader)
        let before = Set(catalog.names), after = Set(fresh.names)
        catalog = fresh
        Self.log(fresh, logger: logger)
        return ReloadOutcome(added: after.subtracting(before).sorted(), removed: before.subtracting(after).sorted(), catalog: fresh)
    }

    /// The agents as `io.kanso.Agents.List` gives them.
    public func agentInfos() -> [AgentInfo] {
        catalog.entries.map { $0.manifest.info(state: Self.state(of: $0)) }
    }

    /// The model file each agent names, where it was found: agent → path.
    public func modelPaths() -> [String: String] {
        var paths: [String: String] = [:]
        for entry in catalog.entries {
            if case .found(let path, _) = entry.model { paths[entry.manifest.name] = path }
        }
        return paths
    }

    /// The catalog and its agents as `io.kanso.Admin.Status` gives them, in one call (one hop).
    public func statusReading() -> (catalog: AgentCatalog, agents: [AgentStatusInfo]) {
        (catalog, agentStatuses())
    }

    /// The agents as `io.kanso.Admin.Status` gives them.
    public func agentStatuses() -> [AgentStatusInfo] {
        catalog.entries.map { entry in
            let manifest = entry.manifest
            var path: String?, bytes: Int?, reason: String?
            switch entry.model {
            case .found(let found, let size): path = found; bytes = size
            case .missing(let searched): reason = "model file \(manifest.model) not found; searched: " + searched.joined(separator: ", ")
            }
            return AgentStatusInfo(name: manifest.name, task: manifest.task.rawValue, model: manifest.model,
                                   modelPath: path, modelBytes: bytes, state: Self.state(of: entry), reason: reason,
                                   priority: manifest.priority.rawValue, keepAlive: manifest.keepAlive.description,
                                   manifest: manifest.manifestPath)
        }
    }

    static func state(of entry: AgentCatalog.Entry) -> String {
        if case .missing = entry.model { return "unavailable" }
        return "absent"
    }

    private static func log(_ catalog: AgentCatalog, logger: Logger) {
        for problem in catalog.problems {
            logger.error("manifest rejected: \(problem)", metadata: [
                "manifest": .string(problem.file), "manifest_key": .string(problem.key ?? ""),
            ])
        }
        for entry in catalog.entries {
            if case .missing(let searched) = entry.model {
                logger.warning("agent \(entry.manifest.name) is unavailable: model \(entry.manifest.model) not found",
                               metadata: ["agent": .string(entry.manifest.name), "searched": .string(searched.joined(separator: ":"))])
            }
        }
        logger.info("loaded \(catalog.entries.count) agents from \(catalog.directory), \(catalog.problems.count) rejected",
                    metadata: ["agents": .string(catalog.names.joined(separator: ",")), "problems": .stringConvertible(catalog.problems.count)])
    }
}
