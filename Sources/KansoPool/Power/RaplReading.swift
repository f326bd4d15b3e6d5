/// One RAPL package domain of `/sys/class/powercap` (Linux powercap framework,
/// Documentation/power/powercap/powercap.rst): a free-running energy counter in µJ.
public struct RaplDomainReading: Sendable, Equatable {
    /// The directory name, "intel-rapl:0" (AMD processors use the same driver and names).
    public var directory: String
    /// The `name` attribute, "package-0"; nil when unreadable.
    public var name: String?
    /// `energy_uj`: energy since an arbitrary origin, µJ; wraps to 0 after `maximumEnergyRange`.
    public var energyMicrojoules: UInt64
    /// `max_energy_range_uj`: the value after which the counter wraps; nil when unreadable.
    public var maximumEnergyRangeMicrojoules: UInt64?

    public init(directory: String, name: String? = nil, energyMicrojoules: UInt64, maximumEnergyRangeMicrojoules: UInt64?) {
        self.directory = directory
        self.name = name
        self.energyMicrojoules = energyMicrojoules
        self.maximumEnergyRangeMicrojoules = maximumEnergyRangeMicrojoules
    }
}

/// The energy counters of every CPU package. Only package domains ("intel-rapl:N") are read:
/// their subdomains ("intel-rapl:N:M": core, uncore, dram) are parts of the package and would
/// count twice, and "psys" (the whole platform, on some laptops) overlaps the packages.
///
/// `energy_uj` is readable by root only since Linux 5.10 (CVE-2020-8694); an unreadable counter
/// makes the reading absent and the energy meter falls back to its CPU-time estimate.
public struct RaplReading: Sendable, Equatable {
    public var domains: [RaplDomainReading]

    public init(domains: [RaplDomainReading]) {
        self.domains = domains
    }

    /// The energy spent between `earlier` and this reading, J, summed over the packages; nil when
    /// a package of `earlier` is missing now, or went backwards without a known wrap range, or
    /// when there are no packages. One wrap between the readings is handled; at 100 W the usual
    /// range of 262 kJ wraps every 40 minutes, far longer than a request or a watt-cap window.
    public func joules(since earlier: RaplReading) -> Double? {
        guard !earlier.domains.isEmpty else { return nil }
        var microjoules: UInt64 = 0
        for before in earlier.domains {
            guard let after = domains.first(where: { $0.directory == before.directory }),
                  let delta = Self.counterDelta(from: before.energyMicrojoules, to: after.energyMicrojoules,
                                                range: after.maximumEnergyRangeMicrojoules ?? before.maximumEnergyRangeMicrojoules)
            else { return nil }
            microjoules += delta
        }
        return Double(microjoules) / 1_000_000
    }

    /// The increase of a counter that wraps to 0 after `range`: `after - before`, or
    /// `range - before + after` when it wrapped; nil when the values contradict the range.
    public static func counterDelta(from before: UInt64, to after: UInt64, range: UInt64?) -> UInt64? {
        if after >= before {
            if let range, after > range { return nil }
            return after - before
        }
        guard let range, before <= range else { return nil }
        return (range - before) + after
    }

    /// Reads the package domains under the tree's `sys/class/powercap`; nil when none has a
    /// readable counter.
    static func read(_ tree: ReadingsFileTree) -> RaplReading? {
        let directory = "sys/class/powercap"
        let domains = tree.entries(directory).filter(isPackageDirectory).compactMap { entry -> RaplDomainReading? in
            let folder = directory + "/" + entry + "/"
            let name = tree.text(folder + "name")
            if let name, !name.hasPrefix("package") { return nil }
            guard let energy = tree.unsignedInteger(folder + "energy_uj") else { return nil }
            return RaplDomainReading(directory: entry, name: name, energyMicrojoules: energy,
                                     maximumEnergyRangeMicrojoules: tree.unsignedInteger(folder + "max_energy_range_uj"))
        }
        return domains.isEmpty ? nil : RaplReading(domains: domains)
    }

    /// "intel-rapl:0" is a package; "intel-rapl:0:1" is a subdomain and "intel-rapl" the control type.
    static func isPackageDirectory(_ entry: String) -> Bool {
        let prefix = "intel-rapl:"
        guard entry.hasPrefix(prefix) else { return false }
        let number = entry.dropFirst(prefix.count)
        return !number.isEmpty && number.allSatisfy { $0 >= "0" && $0 <= "9" }
    }
}
