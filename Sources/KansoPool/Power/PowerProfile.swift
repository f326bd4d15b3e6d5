import Glibc

/// How hard Kanso may work, chosen by `PowerPolicy` from the power source, the temperature and
/// memory pressure (DESIGN.md, Scheduling). Precedence when several apply: hot > lowBattery >
/// battery > ac.
public enum PowerProfile: String, Sendable, CaseIterable, Comparable {
    /// On external power (adapter online, or no battery at all) and not hot.
    case ac
    /// Running from the battery above the low threshold.
    case battery
    /// Running from the battery at or below `PowerThresholds.lowBatteryPercent`.
    case lowBattery = "low-battery"
    /// A thermal zone at or above its passive trip point or `PowerThresholds.hotCelsius`.
    case hot

    /// Orders by restraint: ac < battery < lowBattery < hot (the precedence order, reversed).
    public static func < (left: PowerProfile, right: PowerProfile) -> Bool {
        let order: [PowerProfile] = [.ac, .battery, .lowBattery, .hot]
        return order.firstIndex(of: left)! < order.firstIndex(of: right)!
    }
}

/// What a profile lets the pool do.
public struct PowerProfileSettings: Sendable, Equatable, CustomStringConvertible {
    /// Compute threads each worker process uses (at least 1).
    public var threadsPerWorker: Int
    /// How many workers may compute at the same time (at least 1); the others wait their turn.
    public var maximumConcurrentWorkers: Int
    /// Multiplies every agent's keep-alive: below 1 unloads idle models sooner, 0 at once (0...10).
    public var keepAliveScale: Double
    /// Whether agents of background priority run at all; when false their requests wait.
    public var backgroundAllowed: Bool
    /// A cap on the average power while this profile is in force, W (WattCap); nil: none. The
    /// operator's `--watt-cap` wins over it.
    public var wattCapWatts: Double?

    /// Validates: counts of at least 1, a keep-alive scale in 0...10, a watt cap above 0 W.
    public init(threadsPerWorker: Int, maximumConcurrentWorkers: Int, keepAliveScale: Double,
                backgroundAllowed: Bool, wattCapWatts: Double? = nil) throws(PowerConfigurationError) {
        try PowerConfigurationError.check("threads_per_worker", Double(threadsPerWorker), in: 1...4096)
        try PowerConfigurationError.check("maximum_concurrent_workers", Double(maximumConcurrentWorkers), in: 1...4096)
        try PowerConfigurationError.check("keep_alive_scale", keepAliveScale, in: 0...10)
        if let wattCapWatts { try PowerConfigurationError.check("watt_cap", wattCapWatts, in: 0.001...100_000) }
        self.init(unchecked: threadsPerWorker, maximumConcurrentWorkers, keepAliveScale, backgroundAllowed)
        self.wattCapWatts = wattCapWatts
    }

    init(unchecked threads: Int, _ workers: Int, _ keepAliveScale: Double, _ backgroundAllowed: Bool) {
        threadsPerWorker = threads
        maximumConcurrentWorkers = workers
        self.keepAliveScale = keepAliveScale
        self.backgroundAllowed = backgroundAllowed
    }

    /// The defaults, for a machine with `cores` usable cores:
    ///
    /// | profile    | threads per worker | workers at once | keep-alive × | background |
    /// |------------|--------------------|-----------------|--------------|------------|
    /// | ac         | cores              | 2               | 1            | yes        |
    /// | battery    | max(1, cores / 2)  | 1               | 0.5          | yes        |
    /// | lowBattery | 1                  | 1               | 0.25         | no         |
    /// | hot        | 1                  | 1               | 0.5          | no         |
    ///
    /// No profile has a watt cap by default: what a machine draws idle and busy differs too much
    /// (and between RAPL's package figure and the CPU-time estimate) for one figure to suit all;
    /// `--battery-watt-cap` sets one for the battery profiles.
    public static func standard(for profile: PowerProfile, cores: Int) -> PowerProfileSettings {
        let cores = max(1, cores)
        switch profile {
        case .ac: return PowerProfileSettings(unchecked: cores, 2, 1, true)
        case .battery: return PowerProfileSettings(unchecked: max(1, cores / 2), 1, 0.5, true)
        case .lowBattery: return PowerProfileSettings(unchecked: 1, 1, 0.25, false)
        case .hot: return PowerProfileSettings(unchecked: 1, 1, 0.5, false)
        }
    }

    public var description: String {
        "\(threadsPerWorker) threads/worker, \(maximumConcurrentWorkers) worker(s) at once, keep-alive ×"
            + DecimalText.compact(keepAliveScale) + (backgroundAllowed ? ", background allowed" : ", background paused")
            + (wattCapWatts.map { ", watt cap " + DecimalText.compact($0) + " W" } ?? "")
    }
}

/// The settings of every profile; configuration may override any of them.
public struct PowerProfileTable: Sendable, Equatable {
    public var ac: PowerProfileSettings
    public var battery: PowerProfileSettings
    public var lowBattery: PowerProfileSettings
    public var hot: PowerProfileSettings

    public init(ac: PowerProfileSettings, battery: PowerProfileSettings, lowBattery: PowerProfileSettings,
                hot: PowerProfileSettings) {
        self.ac = ac
        self.battery = battery
        self.lowBattery = lowBattery
        self.hot = hot
    }

    /// The documented defaults (`PowerProfileSettings.standard`) for `cores` cores; by default the
    /// cores this process may use.
    public static func standard(cores: Int = ProcessorCount.available) -> PowerProfileTable {
        PowerProfileTable(ac: .standard(for: .ac, cores: cores), battery: .standard(for: .battery, cores: cores),
                          lowBattery: .standard(for: .lowBattery, cores: cores), hot: .standard(for: .hot, cores: cores))
    }

    /// Whether some profile caps the power (then the pool measures it even without `--watt-cap`).
    public var capsPower: Bool { PowerProfile.allCases.contains { self[$0].wattCapWatts != nil } }

    public subscript(profile: PowerProfile) -> PowerProfileSettings {
        get {
            switch profile {
            case .ac: return ac
            case .battery: return battery
            case .lowBattery: return lowBattery
            case .hot: return hot
            }
        }
        set {
            switch profile {
            case .ac: ac = newValue
            case .battery: battery = newValue
            case .lowBattery: lowBattery = newValue
            case .hot: hot = newValue
            }
        }
    }
}
