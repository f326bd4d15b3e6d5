/// Where the power policy switches profile, and how far a value must move back before it switches
/// back (hysteresis, so a battery hovering at 20% or a package hovering at 85 °C does not flap).
public struct PowerThresholds: Sendable, Equatable {
    /// A zone at or above this is hot, whatever its trip points say (°C).
    public var hotCelsius: Double = 85
    /// Whether a zone's lowest passive trip point (where the kernel itself starts throttling), or
    /// its critical one, lowers the hot threshold for that zone.
    public var usesTripPoints = true
    /// Trip points below this are ignored as firmware noise (some report 0 or fan steps, °C).
    public var minimumTripCelsius: Double = 40
    /// Hot ends only once every zone is this far below its threshold (°C).
    public var thermalHysteresisCelsius: Double = 3
    /// On battery at or below this charge is low battery (percent).
    public var lowBatteryPercent: Double = 20
    /// Low battery ends only above `lowBatteryPercent` plus this (percentage points).
    public var batteryHysteresisPercent: Double = 2
    /// Memory pressure: PSI "full avg10" at or above this (percent of the last 10 s in which every
    /// task stalled on memory) shortens keep-alive.
    public var memoryPressureFullAvg10: Double = 10
    /// Memory pressure ends only below the threshold minus this (percentage points).
    public var memoryPressureHysteresis: Double = 2
    /// Multiplies the profile's keep-alive scale while memory is under pressure, so idle models
    /// give their memory back sooner.
    public var memoryPressureKeepAliveFactor: Double = 0.5

    /// The defaults documented on each property.
    public init() {}

    /// Validated thresholds; each argument defaults to the documented default.
    public init(hotCelsius: Double = 85, usesTripPoints: Bool = true, minimumTripCelsius: Double = 40,
                thermalHysteresisCelsius: Double = 3, lowBatteryPercent: Double = 20,
                batteryHysteresisPercent: Double = 2, memoryPressureFullAvg10: Double = 10,
                memoryPressureHysteresis: Double = 2, memoryPressureKeepAliveFactor: Double = 0.5) throws(PowerConfigurationError) {
        try PowerConfigurationError.check("hot_celsius", hotCelsius, in: 30...150)
        try PowerConfigurationError.check("minimum_trip_celsius", minimumTripCelsius, in: 0...150)
        try PowerConfigurationError.check("thermal_hysteresis_celsius", thermalHysteresisCelsius, in: 0...30)
        try PowerConfigurationError.check("low_battery_percent", lowBatteryPercent, in: 0...100)
        try PowerConfigurationError.check("battery_hysteresis_percent", batteryHysteresisPercent, in: 0...50)
        try PowerConfigurationError.check("memory_pressure_full_avg10", memoryPressureFullAvg10, in: 0.01...100)
        try PowerConfigurationError.check("memory_pressure_hysteresis", memoryPressureHysteresis, in: 0...memoryPressureFullAvg10)
        try PowerConfigurationError.check("memory_pressure_keep_alive_factor", memoryPressureKeepAliveFactor, in: 0.01...1)
        self.hotCelsius = hotCelsius
        self.usesTripPoints = usesTripPoints
        self.minimumTripCelsius = minimumTripCelsius
        self.thermalHysteresisCelsius = thermalHysteresisCelsius
        self.lowBatteryPercent = lowBatteryPercent
        self.batteryHysteresisPercent = batteryHysteresisPercent
        self.memoryPressureFullAvg10 = memoryPressureFullAvg10
        self.memoryPressureHysteresis = memoryPressureHysteresis
        self.memoryPressureKeepAliveFactor = memoryPressureKeepAliveFactor
    }

    /// The temperature at which `zone` counts as hot: `hotCelsius`, lowered to the zone's
    /// lowest passive or critical trip point when trip points are used and plausible.
    public func hotThreshold(for zone: ThermalZoneReading) -> (celsius: Double, source: String) {
        var threshold = (celsius: hotCelsius, source: "limit")
        guard usesTripPoints else { return threshold }
        for trip in zone.tripPoints where trip.celsius >= minimumTripCelsius && trip.celsius < threshold.celsius {
            switch trip.kind {
            case .passive: threshold = (trip.celsius, "passive trip")
            case .critical: threshold = (trip.celsius, "critical trip")
            case .hot, .active, .other: continue
            }
        }
        return threshold
    }
}
