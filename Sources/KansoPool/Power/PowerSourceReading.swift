/// One entry of `/sys/class/power_supply` (Linux ABI: Documentation/ABI/testing/sysfs-class-power).
/// Every field is optional: drivers expose different subsets and any file may be unreadable.
public struct PowerSupplyReading: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// "Mains": the AC adapter.
        case mains
        /// "USB", "USB_C", "USB_PD" and the other USB_* types: USB power delivery into the machine.
        case usb
        /// "Wireless": a charging pad.
        case wireless
        /// "Battery" with scope "System" (or no scope file).
        case battery
        /// "UPS", "BrickID", anything newer or unreadable: ignored by the policy.
        case other(String)

        init(sysfsType: String?) {
            switch sysfsType {
            case "Mains": self = .mains
            case "Battery": self = .battery
            case "Wireless": self = .wireless
            case let type? where type == "USB" || type.hasPrefix("USB_"): self = .usb
            case let type?: self = .other(type)
            case nil: self = .other("unknown")
            }
        }
    }

    /// The `status` attribute of a battery.
    public enum BatteryStatus: String, Sendable, Equatable {
        case charging = "Charging", discharging = "Discharging", full = "Full"
        case notCharging = "Not charging", unknown = "Unknown"

        /// The word used in reasons ("battery 18% discharging").
        public var word: String { rawValue.lowercased() }
    }

    /// The directory name ("AC", "BAT0", "ucsi-source-psy-USBC000:001").
    public var name: String
    public var kind: Kind
    /// `online` of a mains, USB or wireless supply: whether it is feeding the machine.
    public var online: Bool?
    /// `status` of a battery.
    public var status: BatteryStatus?
    /// `capacity` of a battery, 0...100; values outside that range count as absent.
    public var capacityPercent: Int?
    /// `energy_now` and `energy_full` in µWh, used to weigh several batteries by size.
    public var energyNowMicrowattHours: Int64?
    public var energyFullMicrowattHours: Int64?
    /// `present` of a battery: false for an empty second battery bay.
    public var present: Bool?
    /// `scope` "Device": the battery of a wireless mouse or headset, which does not power the machine.
    public var isPeripheral: Bool

    public init(name: String, kind: Kind, online: Bool? = nil, status: BatteryStatus? = nil,
                capacityPercent: Int? = nil, energyNowMicrowattHours: Int64? = nil,
                energyFullMicrowattHours: Int64? = nil, present: Bool? = nil, isPeripheral: Bool = false) {
        self.name = name
        self.kind = kind
        self.online = online
        self.status = status
        self.capacityPercent = capacityPercent
        self.energyNowMicrowattHours = energyNowMicrowattHours
        self.energyFullMicrowattHours = energyFullMicrowattHours
        self.present = present
        self.isPeripheral = isPeripheral
    }

    /// Whether this supply can feed the machine from outside (AC adapter, USB, charging pad).
    public var isExternalSource: Bool {
        switch kind {
        case .mains, .usb, .wireless: return true
        case .battery, .other: return false
        }
    }

    /// A battery that powers this machine: not a peripheral's, not an empty bay.
    public var isSystemBattery: Bool {
        kind == .battery && !isPeripheral && present != false
    }
}

/// What `/sys/class/power_supply` says about the machine's power source.
///
/// On external power when any mains/USB/wireless supply reports `online` 1, or when no system
/// battery exists (a desktop or a server). When batteries exist and no external supply has a
/// readable `online` (some ARM laptops expose only the battery), the battery's status decides:
/// Charging, Full and "Not charging" (plugged in, held below a charge threshold) mean external
/// power; Discharging, Unknown or unreadable mean battery, the cautious choice.
public struct PowerSourceReading: Sendable, Equatable {
    public var supplies: [PowerSupplyReading]

    public init(supplies: [PowerSupplyReading]) {
        self.supplies = supplies
    }

    public var systemBatteries: [PowerSupplyReading] { supplies.filter(\.isSystemBattery) }

    /// Whether the machine runs from external power (see the type's comment for the rule).
    public var onExternalPower: Bool { externalPowerEvidence != nil }

    /// Why the machine counts as on external power ("AC online", "no battery"), nil on battery.
    public var externalPowerEvidence: String? {
        let sources = supplies.filter(\.isExternalSource)
        if let feeding = sources.first(where: { $0.online == true }) {
            return "\(feeding.kind == .mains ? "AC" : feeding.kind == .usb ? "USB power" : "wireless charger") online (\(feeding.name))"
        }
        if systemBatteries.isEmpty { return "no battery" }
        if sources.contains(where: { $0.online == false }) { return nil }
        switch batteryStatus {
        case .charging?, .full?, .notCharging?: return "battery \(batteryStatus!.word), no adapter reading"
        case .discharging?, .unknown?, nil: return nil
        }
    }

    /// The charge of all system batteries together, 0...100: weighted by `energy_full` when every
    /// battery reports energy, else the mean of the `capacity` values; nil when none is readable.
    public var batteryPercent: Double? {
        let batteries = systemBatteries
        guard !batteries.isEmpty else { return nil }
        let energies = batteries.compactMap { battery -> (Int64, Int64)? in
            guard let now = battery.energyNowMicrowattHours, let full = battery.energyFullMicrowattHours,
                  full > 0, now >= 0 else { return nil }
            return (now, full)
        }
        if batteries.count > 1, energies.count == batteries.count {
            let now = energies.reduce(0.0) { $0 + Double($1.0) }, full = energies.reduce(0.0) { $0 + Double($1.1) }
            return min(100, now / full * 100)
        }
        let capacities = batteries.compactMap(\.capacityPercent)
        guard !capacities.isEmpty else { return nil }
        return Double(capacities.reduce(0, +)) / Double(capacities.count)
    }

    /// The combined status: discharging if any battery discharges, else charging if any charges,
    /// else full if all are full, else not charging if any says so; nil when none is readable.
    public var batteryStatus: PowerSupplyReading.BatteryStatus? {
        let statuses = systemBatteries.compactMap(\.status)
        if statuses.isEmpty { return nil }
        if statuses.contains(.discharging) { return .discharging }
        if statuses.contains(.charging) { return .charging }
        if statuses.allSatisfy({ $0 == .full }) { return .full }
        if statuses.contains(.notCharging) { return .notCharging }
        return .unknown
    }

    /// Reads every entry of `sys/class/power_supply` under the tree's root.
    static func read(_ tree: ReadingsFileTree) -> PowerSourceReading {
        let directory = "sys/class/power_supply"
        let supplies = tree.entries(directory).map { name -> PowerSupplyReading in
            let folder = directory + "/" + name + "/"
            let flag: (String) -> Bool? = { file in
                // USB supplies may say 2 ("online, programmable"); anything positive is online.
                guard let value = tree.integer(folder + file), value >= 0 else { return nil }
                return value > 0
            }
            let capacity = tree.integer(folder + "capacity").flatMap { (0...100).contains($0) ? Int($0) : nil }
            return PowerSupplyReading(
                name: name,
                kind: PowerSupplyReading.Kind(sysfsType: tree.text(folder + "type")),
                online: flag("online"),
                status: tree.text(folder + "status").flatMap(PowerSupplyReading.BatteryStatus.init(rawValue:)),
                capacityPercent: capacity,
                energyNowMicrowattHours: tree.integer(folder + "energy_now"),
                energyFullMicrowattHours: tree.integer(folder + "energy_full"),
                present: flag("present"),
                isPeripheral: tree.text(folder + "scope") == "Device")
        }
        return PowerSourceReading(supplies: supplies)
    }
}
