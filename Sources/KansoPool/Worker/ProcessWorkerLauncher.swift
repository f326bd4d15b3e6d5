import KansoWire

/// The real `WorkerLauncher`: workers are this binary started in worker mode (`WorkerProcess`)
/// with `lanes` lanes (requests one worker runs at once), loaded over the main lane.
public struct ProcessWorkerLauncher: WorkerLauncher {
    /// The worker executable and its arguments (this binary, `worker`).
    public var executable: String
    public var arguments: [String]
    public var lanes: Int

    /// The executable workers run by default: this very binary.
    public static let ownExecutable: String = {
        FileSystem.symbolicLinkTarget("/proc/self/exe") ?? CommandLine.arguments[0]
    }()

    public init(executable: String = Self.ownExecutable, arguments: [String] = ["worker"],
                lanes: Int = ModelPool.Configuration.defaultSequencesPerWorker) {
        self.executable = executable
        self.arguments = arguments
        self.lanes = lanes
    }

    public func spawn() throws -> any PoolWorker {
        try WorkerProcess(executable: executable, arguments: arguments, lanes: lanes)
    }

    public func warm(modelPath: String) {
        ProcessMemory.warm(path: modelPath)
    }

    public func load(_ parameters: WorkerLoadParameters, in worker: any PoolWorker) async throws -> WorkerLoadReply {
        var result: WorkerLoadReply?
        for try await reply in await worker.send(.load(parameters)) { result = try reply.workerResult(WorkerLoadReply.self) }
        guard let result else { throw WorkerConnectionError.workerGone }
        return result
    }

    public func stop(_ worker: any PoolWorker, grace: Duration) async -> WorkerExit {
        // Only this launcher's workers reach here: the pool stops what its launcher spawned.
        guard let process = worker as? WorkerProcess else { return await worker.waitForExit() }
        return await process.terminate(grace: grace)
    }
}
