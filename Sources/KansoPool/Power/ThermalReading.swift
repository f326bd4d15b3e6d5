/// A trip point of a thermal zone: the temperature at which the kernel starts to act.
/// (Linux ABI: Documentation/driver-api/thermal/sysfs-api.rst, `trip_point_[0-*]_temp`/`_type`.)
public struct ThermalTripPoint: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// The kernel starts throttling the CPU here: the policy's hint that the machine is hot.
        case passive
        /// The kernel shuts the machine down here.
        case critical
        case hot, active
        case other(String)

        init(sysfsType: String) {
            switch sysfsType {
            case "passive": self = .passive
            case "critical": self = .critical
            case "hot": self = .hot
            case "active": self = .active
            default: self = .other(sysfsType)
            }
        }
    }

    /// The N of `trip_point_N_temp`.
    public var index: Int
    public var kind: Kind
    public var celsius: Double

    public init(index: Int, kind: Kind, celsius: Double) {
        self.index = index
        self.kind = kind
        self.celsius = celsius
    }
}

/// One `/sys/class/thermal/thermal_zoneN`.
public struct ThermalZoneReading: Sendable, Equatable {
    /// The directory name ("thermal_zone3").
    public var name: String
    /// The `type` attribute ("x86_pkg_temp", "acpitz", "cpu-thermal").
    public var type: String?
    /// `temp` in °C; nil when unreadable or outside `ThermalZoneReading.plausibleCelsius`.
    public var celsius: Double?
    public var tripPoints: [ThermalTripPoint]

    /// Readings outside this range are sensor errors (-273.2 °C "no data", 0x7fffffff), not heat.
    public static let plausibleCelsius: ClosedRange<Double> = -50...200

    public init(name: String, type: String? = nil, celsius: Double?, tripPoints: [ThermalTripPoint] = []) {
        self.name = name
        self.type = type
        self.celsius = celsius
        self.tripPoints = tripPoints
    }

    /// The name used in reasons: the type when readable ("x86_pkg_temp"), else the directory name.
    public var label: String { type ?? name }

    /// The lowest passive trip point, if any.
    public var passiveTripCelsius: Double? {
        tripPoints.filter { $0.kind == .passive }.map(\.celsius).min()
    }

    /// The lowest critical trip point, if any.
    public var criticalTripCelsius: Double? {
        tripPoints.filter { $0.kind == .critical }.map(\.celsius).min()
    }
}

/// All thermal zones of the machine.
public struct ThermalReading: Sendable, Equatable {
    public var zones: [ThermalZoneReading]

    public init(zones: [ThermalZoneReading]) {
        self.zones = zones
    }

    /// The zone with the highest readable temperature; nil when no zone has one (a VM, a container
    /// without /sys/class/thermal).
    public var hottest: ThermalZoneReading? {
        zones.filter { $0.celsius != nil }.max { $0.celsius! < $1.celsius! }
    }

    /// Reads every `thermal_zone*` under the tree's `sys/class/thermal`.
    static func read(_ tree: ReadingsFileTree) -> ThermalReading {
        let directory = "sys/class/thermal"
        let zones = tree.entries(directory).filter { $0.hasPrefix("thermal_zone") }.map { name -> ThermalZoneReading in
            let folder = directory + "/" + name + "/"
            let celsius = tree.integer(folder + "temp").flatMap(Self.celsius(millidegrees:))
            return ThermalZoneReading(name: name, type: tree.text(folder + "type"), celsius: celsius,
                                      tripPoints: tripPoints(tree, folder: folder))
        }
        return ThermalReading(zones: zones)
    }

    /// `trip_point_N_temp` with its `trip_point_N_type`; a trip missing either file, or with a
    /// temperature that is not above 0 °C (disabled trips read 0 or garbage), is left out.
    static func tripPoints(_ tree: ReadingsFileTree, folder: String) -> [ThermalTripPoint] {
        let prefix = "trip_point_", suffix = "_temp"
        let indices = tree.entries(folder).compactMap { file -> Int? in
            guard file.hasPrefix(prefix), file.hasSuffix(suffix) else { return nil }
            return Int(file.dropFirst(prefix.count).dropLast(suffix.count))
        }
        return indices.sorted().compactMap { index in
            let stem = folder + prefix + String(index)
            guard let celsius = tree.integer(stem + "_temp").flatMap(Self.celsius(millidegrees:)), celsius > 0,
                  let type = tree.text(stem + "_type") else { return nil }
            return ThermalTripPoint(index: index, kind: ThermalTripPoint.Kind(sysfsType: type), celsius: celsius)
        }
    }

    /// sysfs temperatures are millidegrees Celsius; implausible values are absent.
    static func celsius(millidegrees: Int64) -> Double? {
        let celsius = Double(millidegrees) / 1000
        return ThermalZoneReading.plausibleCelsius.contains(celsius) ? celsius : nil
    }
}
