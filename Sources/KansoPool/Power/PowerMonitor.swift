import Glibc

/// Reads the machine every `interval`, runs the policy, and tells subscribers when the decision
/// changes in effect (another profile, or memory pressure starting or ending) — once per change.
///
/// The pool either calls `run()` in a task (production: reads every few seconds) or calls
/// `poll()` itself on its own schedule; tests inject the readings and the sleep so they run
/// without waiting.
public actor PowerMonitor {
    /// Produces the current readings; `SystemReadings.read(root:)` in production.
    public typealias ReadingsSource = @Sendable () -> SystemReadings
    /// Waits for a duration; throws (CancellationError) to stop `run()`.
    public typealias Sleep = @Sendable (Duration) async throws -> Void

    public nonisolated let policy: PowerPolicy
    public nonisolated let interval: Duration
    private let readingsSource: ReadingsSource
    private let sleep: Sleep

    /// The latest decision, its reason refreshed on every poll.
    public private(set) var current: PowerDecision
    /// The readings behind `current`, for status.
    public private(set) var latestReadings: SystemReadings
    /// How many polls ran, and how many of them changed the decision in effect.
    public private(set) var pollCount = 0
    public private(set) var changeCount = 0

    private var subscribers: [UInt64: AsyncStream<PowerDecision>.Continuation] = [:]
    private var nextSubscriber: UInt64 = 0

    /// A monitor over readings from `source`; the first decision is taken at once, without
    /// hysteresis, and is not emitted as a change (read it from `current`).
    public init(policy: PowerPolicy = PowerPolicy(), interval: Duration = .seconds(5),
                readings source: @escaping ReadingsSource,
                sleep: @escaping Sleep = { try await Task.sleep(for: $0) }) {
        self.policy = policy
        self.interval = interval
        self.readingsSource = source
        self.sleep = sleep
        let readings = source()
        latestReadings = readings
        current = policy.decide(readings, previous: nil)
    }

    /// A monitor reading the real files under `root` ("/" or a fake tree); throws when `root` is
    /// not a directory, since an empty reading would pass for a desktop on AC.
    public init(root: String = "/", policy: PowerPolicy = PowerPolicy(), interval: Duration = .seconds(5),
                sleep: @escaping Sleep = { try await Task.sleep(for: $0) }) throws(PowerConfigurationError) {
        guard ReadingsFileTree(root: root).rootIsDirectory() else { throw .rootNotDirectory(root) }
        self.init(policy: policy, interval: interval, readings: { SystemReadings.read(root: root) }, sleep: sleep)
    }

    /// Reads once, decides, and emits the decision when it differs in effect from `current`.
    @discardableResult
    public func poll() -> PowerDecision {
        let readings = readingsSource()
        let decision = policy.decide(readings, previous: current)
        pollCount += 1
        latestReadings = readings
        let changed = current.differsInEffect(from: decision)
        current = decision
        if changed {
            changeCount += 1
            for continuation in subscribers.values { continuation.yield(decision) }
        }
        return decision
    }

    /// A stream of the decisions that change something, from now on. Each call gives an
    /// independent stream (the pool and status may both listen); it ends when `finish()` is called
    /// or `run()` returns. Slow listeners keep the newest 16 changes.
    public func changes() -> AsyncStream<PowerDecision> {
        let (stream, continuation) = AsyncStream.makeStream(of: PowerDecision.self, bufferingPolicy: .bufferingNewest(16))
        let identifier = nextSubscriber
        nextSubscriber += 1
        subscribers[identifier] = continuation
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(identifier) }
        }
        return stream
    }

    /// Polls every `interval` until the task is cancelled or `sleep` throws, then ends all streams.
    public func run() async {
        while !Task.isCancelled {
            do { try await sleep(interval) } catch { break }
            if Task.isCancelled { break }
            poll()
        }
        finish()
    }

    /// Ends every stream handed out by `changes()`.
    public func finish() {
        let continuations = subscribers.values
        subscribers.removeAll()
        for continuation in continuations { continuation.finish() }
    }

    private func unsubscribe(_ identifier: UInt64) {
        subscribers[identifier] = nil
    }
}
