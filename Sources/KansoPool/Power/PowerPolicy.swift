import Glibc

/// The policy's verdict: the profile, the settings the pool applies, and why.
public struct PowerDecision: Sendable, Equatable, CustomStringConvertible {
    public var profile: PowerProfile
    /// The profile's settings with memory pressure applied (keep-alive scale × the pressure factor).
    public var settings: PowerProfileSettings
    /// Whether PSI "full avg10" is at or above the threshold (with hysteresis).
    public var memoryPressure: Bool
    /// The readings that decided, for status and the journal: "battery 18% discharging",
    /// "hot: x86_pkg_temp 91.0 °C ≥ passive trip 90.0 °C; AC online (AC)".
    public var reason: String

    public init(profile: PowerProfile, settings: PowerProfileSettings, memoryPressure: Bool, reason: String) {
        self.profile = profile
        self.settings = settings
        self.memoryPressure = memoryPressure
        self.reason = reason
    }

    /// Whether the pool must act on `next`: another profile, or memory pressure starting or
    /// ending. A battery going from 60% to 59% changes the reason only, which is not a change.
    public func differsInEffect(from next: PowerDecision) -> Bool {
        profile != next.profile || memoryPressure != next.memoryPressure || settings != next.settings
    }

    public var description: String { "\(profile.rawValue) (\(reason))" }
}

/// Chooses the power profile: a pure function of the readings and the previous decision
/// (DESIGN.md, Scheduling, power policy).
///
/// - hot: some zone at or above its threshold (`PowerThresholds.hotThreshold(for:)`); once hot,
///   it stays hot until every zone is `thermalHysteresisCelsius` below its threshold.
/// - lowBattery: on battery power (see `PowerSourceReading`) with the charge at or below
///   `lowBatteryPercent`; once low, it stays low until above the threshold plus
///   `batteryHysteresisPercent`. A battery that charges is on external power, so 15% charging
///   is `ac`. An unreadable charge on battery power is `battery`, never low.
/// - battery: on battery power otherwise.
/// - ac: on external power.
/// Memory pressure does not pick a profile; it multiplies the keep-alive scale by
/// `memoryPressureKeepAliveFactor` and is named in the reason.
public struct PowerPolicy: Sendable, Equatable {
    public var thresholds: PowerThresholds
    public var profiles: PowerProfileTable

    public init(thresholds: PowerThresholds = PowerThresholds(), profiles: PowerProfileTable = .standard()) {
        self.thresholds = thresholds
        self.profiles = profiles
    }

    /// The decision for `readings`, given the `previous` one (nil at start: no hysteresis).
    public func decide(_ readings: SystemReadings, previous: PowerDecision?) -> PowerDecision {
        let thermal = hotZone(readings.thermal, wasHot: previous?.profile == .hot)
        let power = readings.powerSource
        let powerReason = Self.describe(power)
        let profile: PowerProfile
        var reason: String
        if let thermal {
            profile = .hot
            reason = thermal + "; " + powerReason
        } else if !power.onExternalPower {
            let low = thresholds.lowBatteryPercent
                + (previous?.profile == .lowBattery ? thresholds.batteryHysteresisPercent : 0)
            profile = (power.batteryPercent.map { $0 <= low } ?? false) ? .lowBattery : .battery
            reason = powerReason
        } else {
            profile = .ac
            reason = powerReason
        }

        var settings = profiles[profile]
        let pressure = memoryPressure(readings.memoryPressure, wasPressured: previous?.memoryPressure ?? false)
        if let pressure {
            settings.keepAliveScale *= thresholds.memoryPressureKeepAliveFactor
            reason += "; " + pressure
        }
        return PowerDecision(profile: profile, settings: settings, memoryPressure: pressure != nil, reason: reason)
    }

    /// Convenience for callers that keep only the profile: memory pressure starts without hysteresis.
    public func decide(_ readings: SystemReadings, previousProfile: PowerProfile?) -> PowerDecision {
        let previous = previousProfile.map {
            PowerDecision(profile: $0, settings: profiles[$0], memoryPressure: false, reason: "")
        }
        return decide(readings, previous: previous)
    }

    /// The reason the machine is hot ("hot: x86_pkg_temp 91.0 °C ≥ passive trip 90.0 °C"), or nil.
    /// The zone with the largest margin over its own threshold decides.
    func hotZone(_ thermal: ThermalReading, wasHot: Bool) -> String? {
        let allowance = wasHot ? thresholds.thermalHysteresisCelsius : 0
        var worst: (margin: Double, text: String)?
        for zone in thermal.zones {
            guard let celsius = zone.celsius else { continue }
            let threshold = thresholds.hotThreshold(for: zone)
            let margin = celsius - (threshold.celsius - allowance)
            guard margin >= 0, margin > (worst?.margin ?? -.infinity) else { continue }
            let comparison = celsius >= threshold.celsius
                ? "≥ \(threshold.source) \(Self.format(threshold.celsius)) °C"
                : "cooling, hot until below \(Self.format(threshold.celsius - allowance)) °C"
            worst = (margin, "hot: \(zone.label) \(Self.format(celsius)) °C \(comparison)")
        }
        return worst?.text
    }

    /// The memory-pressure clause ("memory pressure full avg10 23.5% ≥ 10%"), or nil.
    func memoryPressure(_ reading: MemoryPressureReading?, wasPressured: Bool) -> String? {
        guard let full = reading?.full else { return nil }
        let threshold = thresholds.memoryPressureFullAvg10 - (wasPressured ? thresholds.memoryPressureHysteresis : 0)
        guard full.avg10 >= threshold else { return nil }
        return "memory pressure full avg10 \(Self.format(full.avg10))% ≥ \(Self.format(threshold))%, keep-alive shortened"
    }

    /// "AC online (AC)", "no battery", "battery 18% discharging", "AC online (AC), battery 15% charging".
    static func describe(_ power: PowerSourceReading) -> String {
        var battery: String?
        if !power.systemBatteries.isEmpty {
            let percent = power.batteryPercent.map { "\(Int($0.rounded()))%" } ?? "charge unknown"
            battery = "battery \(percent) \(power.batteryStatus?.word ?? "status unknown")"
        }
        guard let evidence = power.externalPowerEvidence else { return battery ?? "on battery" }
        if evidence.hasPrefix("battery") { return battery.map { $0 + ", no adapter reading" } ?? evidence }
        return battery.map { evidence + ", " + $0 } ?? evidence
    }

    static func format(_ value: Double) -> String {
        DecimalText.fixed(value, places: 1)
    }
}
