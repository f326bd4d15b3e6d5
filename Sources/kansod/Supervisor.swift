import Glibc
import KansoPool
import KansoServer
import KansoSystemd
import KansoWire
import KansoWorker
import Logging

/// The supervisor's wiring: logging, manifests, the socket, systemd, signals, the watchdog.
/// It owns the daemon's lifecycle: starting → ready ⇄ reloading → stopping.
final class Supervisor: Sendable {
    let options: DaemonOptions
    let logger = Logger(label: "kansod")
    let notifier = SystemdNotifier()
    let lifecycle = DaemonLifecycle()
    let statistics = ServerStatistics()
    let startedAt = WallTime.now

    init(options: DaemonOptions) {
        self.options = options
    }

    /// Runs until SIGTERM/SIGINT; returns the process exit code.
    func run() async -> Int32 {
        // Signal handlers first: a SIGHUP or SIGTERM that arrives once READY=1 is out must be ours
        // to handle, not the default action's.
        let signals = SignalEvents.stream([SIGHUP, SIGTERM, SIGINT])
        let socket: ListeningSocket
        let activation: String
        do {
            socket = try chooseSocket()
            if case .activated = socket { activation = "socket-activated" } else { activation = "stand-alone" }
        } catch {
            return fail(EINVAL, "cannot take the sockets systemd passed: \(error)")
        }

        let locator = ModelLocator(searchPath: options.resolvedModelPath)
        let registry = AgentRegistry(directory: options.resolvedAgents, locator: locator, schemaCheck: ExtractionSchema.check,
                                     logger: logger)
        let budget: MemoryBudget
        do { budget = try options.resolvedBudget() } catch { return fail(EINVAL, "\(error)") }

        var poolConfiguration = ModelPool.Configuration(budget: budget)
        if let threads = options.threads {
            poolConfiguration.threadsPerWorker = threads
            poolConfiguration.fixedThreadsPerWorker = threads
        }
        poolConfiguration.queueCapacity = options.queueCapacity
        poolConfiguration.spareWorker = options.spareWorker
        poolConfiguration.workerStallTimeout = options.workerStallTimeout > 0 ? .milliseconds(Int(options.workerStallTimeout * 1000)) : nil
        poolConfiguration.packedCacheDirectory = options.resolvedPackedCacheDirectory
        let pool = ModelPool(configuration: poolConfiguration, launcher: ProcessWorkerLauncher(lanes: options.maxSequences),
                             memory: ProcessMemoryProbe(),
                             clock: SystemClock(), logger: logger)
        let eventLog = Task { [logger] in
            for await event in pool.subscribe() where event.kind != .state {
                logger.notice("\(event.kind.rawValue): \(event.reason)", metadata: ["model": .string(event.model), "event": .string(event.kind.rawValue)])
            }
        }

        // Power policy: read once now, then polled; every change applies to the pool live.
        var powerConfiguration = PowerConfiguration()
        powerConfiguration.readingsRoot = options.resolvedSysfsRoot
        powerConfiguration.pollInterval = .milliseconds(Int(options.powerPollInterval * 1000))
        powerConfiguration.wattCap = options.wattCap > 0 ? options.wattCap : nil
        powerConfiguration.wattCapWindowSeconds = options.wattCapWindow
        if options.batteryWattCap > 0 {
            powerConfiguration.profiles.battery.wattCapWatts = options.batteryWattCap
            powerConfiguration.profiles.lowBattery.wattCapWatts = options.batteryWattCap
        }
        let monitor: PowerMonitor
        do { monitor = try powerConfiguration.makeMonitor() } catch { return fail(EINVAL, "--sysfs-root: \(error)") }
        // Energy per request from the workers' CPU time, or RAPL under the same sysfs root.
        let agents = AgentService(registry: registry, pool: pool, logger: logger, meter: try? powerConfiguration.makeEnergyMeter())
        await pool.apply(await monitor.current)
        let powerWatcher = Task { [notifier] in
            let changes = await monitor.changes()
            let polling = Task { await monitor.run() }
            for await decision in changes {
                await pool.apply(decision)
                _ = notifier.status("power profile \(decision.profile.rawValue): \(decision.reason)")
            }
            polling.cancel()
        }
        let wattCapWatcher: Task<Void, Never>?
        do {
            wattCapWatcher = try powerConfiguration.makeWattCap().map { cap in
                let meter = try? powerConfiguration.makeEnergyMeter()
                return Task { await pool.runWattCap(cap, meter: meter, interval: powerConfiguration.pollInterval) }
            }
        } catch {
            return fail(EINVAL, "--watt-cap: \(error)")
        }

        let serverConfiguration = serverConfiguration()
        let routes = KansoRoutes.make(KansoRoutes.Context(
            registry: registry, agents: agents, lifecycle: lifecycle, statistics: statistics, budget: budget,
            socketDescription: socket.description, activation: activation, modelSearchPath: locator.searchPath,
            startedAt: startedAt, reload: { [self] in await reload(registry) }))
        let server = VarlinkServer(routes: routes, policy: AccessPolicy(adminGroupName: options.resolvedAdminGroup),
                                   configuration: serverConfiguration, logger: logger, statistics: statistics)

        let listener: VarlinkServer.Listener
        do {
            listener = try await server.listen(on: socket)
        } catch let error as ListeningSocketError {
            return fail(error.errnoValue, error.description)
        } catch {
            return fail(EIO, "cannot serve on \(socket): \(error)")
        }
        var probePath: String?
        switch socket {
        case .standAlone(let path, _):
            probePath = path
        case .activated(let descriptor, _):
            probePath = ListeningSocket.boundPath(descriptor: descriptor)
        }

        // The pool's loads, unloads and timers run under this task until `pool.shutdown()`
        // (started once nothing can fail any more: an early return would wait for it).
        async let poolWork: Void = pool.run()
        await pool.startSpareWorker()

        // Pinned agents (keep_alive = "forever") are loaded before READY=1; systemd is asked for
        // more start-up time while each loads.
        await agents.preloadPinned { [notifier] name in
            _ = notifier.extendTimeout(microseconds: 60_000_000)
            _ = notifier.status("loading pinned agent \(name)")
        }

        lifecycle.move(to: .ready)
        let agentCount = await registry.catalog.entries.count
        _ = notifier.ready(status: "serving \(agentCount) agents on \(socket)")
        logger.info("kansod \(KansoVersion.current) ready on \(socket)",
                    metadata: ["socket": .string(socket.description), "activation": .string(activation), "agents": "\(agentCount)"])

        let signalHandler = Task { await handleSignals(signals, server: server, registry: registry, pool: pool) }
        let watchdog = Task { await runWatchdog(probePath: probePath) }
        do {
            try await server.serve(listener)
        } catch {
            logger.error("serving stopped: \(error)")
        }
        signalHandler.cancel()
        watchdog.cancel()
        powerWatcher.cancel()
        wattCapWatcher?.cancel()
        await monitor.finish()
        await pool.shutdown()
        await poolWork
        eventLog.cancel()
        if case .standAlone(let path, _) = socket {
            ListeningSocket.removeIfOwned(path: path, identity: server.ownSocketFile)
        }
        logger.info("kansod stopped after \(statistics.calls) calls")
        return 0
    }

    /// The server's limits from the options; the connection limit is lowered to what the
    /// open-file limit (raised to its hard value here) leaves beside the daemon's own descriptors.
    private func serverConfiguration() -> VarlinkServer.Configuration {
        let openFiles = OpenFileLimit.raise()
        var configuration = VarlinkServer.Configuration()
        configuration.maximumMessageBytes = options.maxMessageBytes
        configuration.maximumGracefulShutdownDuration = .milliseconds(Int(options.shutdownTimeout * 1000))
        configuration.idleTimeout = .milliseconds(Int(options.idleTimeout * 1000))
        configuration.messageTimeout = .milliseconds(Int(options.messageTimeout * 1000))
        configuration.writeTimeout = .milliseconds(Int(options.writeTimeout * 1000))
        configuration.maximumConnectionsPerUser = options.maxConnectionsPerUser
        let ceiling = OpenFileLimit.connectionCeiling(softLimit: openFiles)
        configuration.maximumConnections = min(options.maxConnections, ceiling)
        if options.maxConnections > ceiling {
            logger.warning("at most \(ceiling) connections: the open-file limit is \(openFiles) (raise LimitNOFILE= to allow \(options.maxConnections))")
        }
        return configuration
    }

    /// The socket systemd passed (named "varlink", else the first), or the configured path.
    private func chooseSocket() throws -> ListeningSocket {
        let passed = try ListenFileDescriptors.takeOrThrow()
        if let chosen = passed.first(where: { $0.name == "varlink" }) ?? passed.first {
            for extra in passed where extra.fd != chosen.fd {
                logger.warning("ignoring extra socket fd \(extra.fd) (\(extra.name)) passed by systemd")
                close(extra.fd)
            }
            return .activated(descriptor: chosen.fd, name: chosen.name)
        }
        return .standAlone(path: options.resolvedSocket, mode: try options.resolvedSocketMode())
    }

    /// SIGHUP reloads the manifests; SIGTERM and SIGINT drain and stop.
    private func handleSignals(_ signals: AsyncStream<Int32>, server: VarlinkServer, registry: AgentRegistry, pool: ModelPool) async {
        for await number in signals {
            if number == SIGHUP {
                _ = await reload(registry)
                continue
            }
            guard lifecycle.move(to: .stopping) else { continue }
            let open = statistics.connections
            _ = notifier.stopping(status: "stopping: draining \(open) connections")
            logger.info("stopping on signal \(number): draining \(open) connections",
                        metadata: ["signal": "\(number)"])
            server.beginShutdown()
            await pool.beginDrain()
            return
        }
    }

    /// Re-reads the manifests with RELOADING=1 … READY=1 around it; connections stay open.
    func reload(_ registry: AgentRegistry) async -> AgentRegistry.ReloadOutcome {
        let moved = lifecycle.move(to: .reloading)
        if moved { _ = notifier.reloading() }
        let outcome = await registry.reload()
        if moved {
            lifecycle.move(to: .ready)
            _ = notifier.ready(status: "serving \(outcome.catalog.entries.count) agents; reloaded: +\(outcome.added.count) -\(outcome.removed.count), \(outcome.catalog.problems.count) rejected")
        }
        logger.info("reloaded manifests", metadata: [
            "added": .string(outcome.added.joined(separator: ",")), "removed": .string(outcome.removed.joined(separator: ",")),
        ])
        return outcome
    }

    /// Pings WATCHDOG=1 at half the interval, only while a real call through our own socket
    /// succeeds: a hung event loop, route table or registry stops the pings and systemd restarts us.
    private func runWatchdog(probePath: String?) async {
        guard let schedule = WatchdogSchedule.fromEnvironment() else { return }
        logger.info("watchdog every \(schedule.pingInterval)")
        while !Task.isCancelled {
            if lifecycle.state == .stopping || isAlive(probePath: probePath, timeout: schedule.pingInterval / 2) {
                _ = notifier.watchdog()
            } else {
                logger.error("liveness check failed: no answer on \(probePath ?? "the socket"); withholding WATCHDOG=1")
            }
            try? await Task.sleep(for: schedule.pingInterval)
        }
    }

    private func isAlive(probePath: String?, timeout: Duration) -> Bool {
        guard let probePath else { return true }
        do {
            let connection = try VarlinkConnection(path: probePath, timeout: timeout)
            _ = try connection.call(VarlinkCall(method: "org.varlink.service.GetInfo"))
            return true
        } catch {
            return false
        }
    }

    /// Reports a failing start to systemd and the log; returns the exit code.
    private func fail(_ code: Int32, _ message: String) -> Int32 {
        logger.critical("\(message)")
        _ = notifier.failed(errno: code, status: "failed: \(message)")
        return 1
    }
}
