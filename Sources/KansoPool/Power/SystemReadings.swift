/// Everything the power policy and the energy meter read from the machine, at one moment.
/// (DESIGN.md, Scheduling, power policy.) Every part may be absent; reading never throws.
public struct SystemReadings: Sendable, Equatable {
    /// `/sys/class/power_supply`.
    public var powerSource: PowerSourceReading
    /// `/sys/class/thermal/thermal_zone*`.
    public var thermal: ThermalReading
    /// `/proc/pressure/memory`; nil without PSI.
    public var memoryPressure: MemoryPressureReading?
    /// `/sys/class/powercap/intel-rapl:N`; nil when absent or unreadable (root-only on most kernels).
    public var rapl: RaplReading?

    public init(powerSource: PowerSourceReading = PowerSourceReading(supplies: []),
                thermal: ThermalReading = ThermalReading(zones: []),
                memoryPressure: MemoryPressureReading? = nil, rapl: RaplReading? = nil) {
        self.powerSource = powerSource
        self.thermal = thermal
        self.memoryPressure = memoryPressure
        self.rapl = rapl
    }

    /// Reads every source under `root` ("/" on a real machine, a fake tree's folder in tests).
    /// Missing, unreadable or malformed files become absent values.
    public static func read(root: String = "/") -> SystemReadings {
        let tree = ReadingsFileTree(root: root)
        return SystemReadings(powerSource: PowerSourceReading.read(tree), thermal: ThermalReading.read(tree),
                              memoryPressure: MemoryPressureReading.read(tree), rapl: RaplReading.read(tree))
    }

    /// One line for status: "battery 60% discharging; hottest x86_pkg_temp 52.0 °C; memory
    /// full avg10 0.0%; RAPL readable". Absent parts say so.
    public var summary: String {
        var parts = [PowerPolicy.describe(powerSource)]
        if let zone = thermal.hottest, let celsius = zone.celsius {
            parts.append("hottest \(zone.label) \(PowerPolicy.format(celsius)) °C")
        } else {
            parts.append("no thermal zones")
        }
        parts.append(memoryPressure?.full.map { "memory full avg10 \(PowerPolicy.format($0.avg10))%" } ?? "no memory PSI")
        parts.append(rapl == nil ? "RAPL unreadable" : "RAPL readable")
        return parts.joined(separator: "; ")
    }

    /// Like `read(root:)`, but throws when the root itself is not a directory: an empty reading
    /// would silently look like a desktop on AC, hiding a misconfigured `power.sysfs_root`.
    public static func readChecked(root: String) throws(PowerConfigurationError) -> SystemReadings {
        guard ReadingsFileTree(root: root).rootIsDirectory() else { throw .rootNotDirectory(root) }
        return read(root: root)
    }
}
