/// Every power setting in one place, with its default, for the daemon's configuration reader.
/// The names in parentheses are the keys used in error messages (`PowerConfigurationError`).
public struct PowerConfiguration: Sendable, Equatable {
    /// Where sysfs and procfs are read from (`sysfs_root`): "/" on a real machine; tests and
    /// demonstrations point it at a fake tree.
    public var readingsRoot = "/"
    /// How often the monitor reads the machine (`poll_interval`); 5 s.
    public var pollInterval: Duration = .seconds(5)
    /// Profile thresholds and hysteresis; see `PowerThresholds` for each default.
    public var thresholds = PowerThresholds()
    /// The settings of each profile; see `PowerProfileSettings.standard(for:cores:)`.
    public var profiles: PowerProfileTable = .standard()
    /// Power of one busy core for the CPU-time energy estimate (`watts_per_core`); 10 W.
    public var wattsPerCore = EnergyMeter.defaultWattsPerCore
    /// Whether RAPL is read when the daemon may (`use_rapl`); true.
    public var usesRapl = true
    /// The operator's cap on the average power (`watt_cap`), W, in force whatever the profile;
    /// nil: the profile's cap (`PowerProfileSettings.wattCapWatts`), if it has one.
    public var wattCap: Double?
    /// The window the cap averages over (`watt_cap_window_seconds`); 30 s.
    public var wattCapWindowSeconds = 30.0

    /// The defaults listed on each property.
    public init() {}

    public var policy: PowerPolicy { PowerPolicy(thresholds: thresholds, profiles: profiles) }

    /// The monitor over `readingsRoot`; throws when the root is not a directory or the poll
    /// interval is not positive.
    public func makeMonitor(sleep: @escaping PowerMonitor.Sleep = { try await Task.sleep(for: $0) }) throws(PowerConfigurationError) -> PowerMonitor {
        let (seconds, attoseconds) = pollInterval.components
        try PowerConfigurationError.check("poll_interval", Double(seconds) + Double(attoseconds) / 1e18, in: 0.001...86_400)
        return try PowerMonitor(root: readingsRoot, policy: policy, interval: pollInterval, sleep: sleep)
    }

    /// The energy meter over `readingsRoot`.
    public func makeEnergyMeter() throws(PowerConfigurationError) -> EnergyMeter {
        try EnergyMeter(root: readingsRoot, wattsPerCore: wattsPerCore, usesRapl: usesRapl)
    }

    /// The watt cap, or nil when neither the operator nor any profile sets one.
    public func makeWattCap() throws(PowerConfigurationError) -> WattCap? {
        guard wattCap != nil || profiles.capsPower else { return nil }
        return try WattCap(capWatts: wattCap, windowSeconds: wattCapWindowSeconds)
    }
}
