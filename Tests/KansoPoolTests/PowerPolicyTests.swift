import Foundation
import KansoPool
import Testing

@Suite("Power policy")
struct PowerPolicyTests {
    let policy = PowerPolicy(profiles: .standard(cores: 8))

    func decide(_ tree: FakePowerTree, previous: PowerDecision? = nil) -> PowerDecision {
        policy.decide(SystemReadings.read(root: tree.root), previous: previous)
    }

    @Test("the documented default settings")
    func defaults() throws {
        let table = PowerProfileTable.standard(cores: 8)
        #expect(table.ac == (try PowerProfileSettings(threadsPerWorker: 8, maximumConcurrentWorkers: 2, keepAliveScale: 1, backgroundAllowed: true)))
        #expect(table.battery == (try PowerProfileSettings(threadsPerWorker: 4, maximumConcurrentWorkers: 1, keepAliveScale: 0.5, backgroundAllowed: true)))
        #expect(table.lowBattery == (try PowerProfileSettings(threadsPerWorker: 1, maximumConcurrentWorkers: 1, keepAliveScale: 0.25, backgroundAllowed: false)))
        #expect(table.hot == (try PowerProfileSettings(threadsPerWorker: 1, maximumConcurrentWorkers: 1, keepAliveScale: 0.5, backgroundAllowed: false)))
        #expect(PowerProfileTable.standard(cores: 1).battery.threadsPerWorker == 1)
        #expect(PowerProfileTable.standard(cores: 0).ac.threadsPerWorker == 1)
    }

    @Test("settings and thresholds out of range are refused with the setting's name")
    func validation() throws {
        #expect(throws: PowerConfigurationError.outOfRange(setting: "threads_per_worker", value: 0, allowed: "1.0...4096.0")) {
            try PowerProfileSettings(threadsPerWorker: 0, maximumConcurrentWorkers: 1, keepAliveScale: 1, backgroundAllowed: true)
        }
        #expect(throws: PowerConfigurationError.self) {
            try PowerProfileSettings(threadsPerWorker: 1, maximumConcurrentWorkers: 1, keepAliveScale: .nan, backgroundAllowed: true)
        }
        #expect(throws: PowerConfigurationError.self) { try PowerThresholds(lowBatteryPercent: 120) }
        #expect(throws: PowerConfigurationError.self) { try PowerThresholds(hotCelsius: -.infinity) }
        #expect(throws: PowerConfigurationError.self) { try PowerThresholds(memoryPressureFullAvg10: 5, memoryPressureHysteresis: 6) }
        #expect(PowerThresholds() == (try PowerThresholds(hotCelsius: 85)))
    }

    @Test("an AC desktop with no battery")
    func desktop() throws {
        let tree = try FakePowerTree()
        try tree.zone(0, type: "x86_pkg_temp", celsius: 52, trips: [("passive", 95)])
        let decision = decide(tree)
        #expect(decision.profile == .ac)
        #expect(decision.reason == "no battery")
        #expect(decision.settings == policy.profiles.ac)
        #expect(!decision.memoryPressure)
    }

    @Test("a laptop on battery at 60%")
    func battery() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 60)
        let decision = decide(tree)
        #expect(decision.profile == .battery)
        #expect(decision.reason == "battery 60% discharging")
        #expect(decision.settings.threadsPerWorker == 4)
    }

    @Test("15% discharging is low battery")
    func lowBattery() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 15)
        let decision = decide(tree)
        #expect(decision.profile == .lowBattery)
        #expect(decision.reason == "battery 15% discharging")
        #expect(!decision.settings.backgroundAllowed)
    }

    @Test("15% charging is ac: the adapter feeds the machine")
    func chargingAtFifteen() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: true)
        try tree.battery(status: "Charging", capacity: 15)
        var decision = decide(tree)
        #expect(decision.profile == .ac)
        #expect(decision.reason == "AC online (AC), battery 15% charging")
        // Without an adapter entry the charging status alone says external power.
        try tree.remove("sys/class/power_supply/AC")
        decision = decide(tree)
        #expect(decision.profile == .ac)
        #expect(decision.reason == "battery 15% charging, no adapter reading")
    }

    @Test("an unreadable charge on battery is battery, not low")
    func unknownCharge() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 15)
        try tree.write("sys/class/power_supply/BAT0/capacity", "n/a\n")
        let decision = decide(tree)
        #expect(decision.profile == .battery)
        #expect(decision.reason == "battery charge unknown discharging")
    }

    @Test("a hot zone is hot, whatever the power source", arguments: [true, false])
    func hot(onAC: Bool) throws {
        let tree = try FakePowerTree()
        try tree.mains(online: onAC)
        try tree.battery(status: onAC ? "Charging" : "Discharging", capacity: onAC ? 80 : 10)
        try tree.zone(0, type: "acpitz", celsius: 50)
        try tree.zone(1, type: "x86_pkg_temp", celsius: 86)
        let decision = decide(tree)
        #expect(decision.profile == .hot)
        #expect(decision.reason.hasPrefix("hot: x86_pkg_temp 86.0 °C ≥ limit 85.0 °C; "))
        #expect(decision.reason.hasSuffix(onAC ? "battery 80% charging" : "battery 10% discharging"))
        #expect(decision.settings == policy.profiles.hot)
    }

    @Test("a passive trip point below the limit makes its zone hot earlier; implausible trips are ignored")
    func passiveTrip() throws {
        let tree = try FakePowerTree()
        try tree.zone(0, type: "cpu-thermal", celsius: 76, trips: [("passive", 75), ("critical", 95)])
        #expect(decide(tree).reason.hasPrefix("hot: cpu-thermal 76.0 °C ≥ passive trip 75.0 °C"))
        try tree.zone(0, type: "cpu-thermal", celsius: 74)
        #expect(decide(tree).profile == .ac)

        try tree.zone(0, type: "soc-thermal", celsius: 79, trips: [("active", 50), ("critical", 78)])  // a low critical trip counts too
        #expect(decide(tree).reason.hasPrefix("hot: soc-thermal 79.0 °C ≥ critical trip 78.0 °C"))
        try tree.remove("sys/class/thermal/thermal_zone0")

        try tree.zone(0, type: "acpitz", celsius: 30, trips: [("passive", 20)])  // below minimumTripCelsius
        #expect(decide(tree).profile == .ac)

        var thresholds = PowerThresholds()
        thresholds.usesTripPoints = false
        let limitOnly = PowerPolicy(thresholds: thresholds, profiles: .standard(cores: 8))
        try tree.zone(0, type: "cpu-thermal", celsius: 80, trips: [("passive", 75)])
        #expect(limitOnly.decide(SystemReadings.read(root: tree.root), previous: nil).profile == .ac)
        #expect(decide(tree).profile == .hot)
    }

    @Test("temperature hovering at the limit does not flap")
    func thermalHysteresis() throws {
        let tree = try FakePowerTree()
        var decision: PowerDecision?
        var profiles: [PowerProfile] = []
        for celsius in [84.9, 85.0, 84.0, 85.0, 82.5, 82.0, 81.9, 84.9, 85.0] {
            try tree.zone(0, type: "x86_pkg_temp", celsius: celsius)
            decision = decide(tree, previous: decision)
            profiles.append(decision!.profile)
        }
        #expect(profiles == [.ac, .hot, .hot, .hot, .hot, .hot, .ac, .ac, .hot])
    }

    @Test("battery hovering at the low threshold does not flap")
    func batteryHysteresis() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        var decision: PowerDecision?
        var profiles: [PowerProfile] = []
        for capacity in [21, 20, 21, 22, 23, 22, 21, 20] {
            try tree.battery(status: "Discharging", capacity: capacity)
            decision = decide(tree, previous: decision)
            profiles.append(decision!.profile)
        }
        #expect(profiles == [.battery, .lowBattery, .lowBattery, .lowBattery, .battery, .battery, .battery, .lowBattery])
        // The profile-only entry point applies the same hysteresis.
        try tree.battery(status: "Discharging", capacity: 22)
        #expect(policy.decide(SystemReadings.read(root: tree.root), previousProfile: .lowBattery).profile == .lowBattery)
        #expect(policy.decide(SystemReadings.read(root: tree.root), previousProfile: .battery).profile == .battery)
    }

    @Test("memory pressure halves keep-alive, is named, and has hysteresis")
    func memoryPressure() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 60)
        try tree.pressure(someAvg10: 40, fullAvg10: 9.5)  // "some" alone never counts
        var decision = decide(tree)
        #expect(!decision.memoryPressure && decision.settings.keepAliveScale == 0.5)

        try tree.pressure(fullAvg10: 12.5)
        decision = decide(tree, previous: decision)
        #expect(decision.memoryPressure)
        #expect(decision.profile == .battery)
        #expect(decision.settings.keepAliveScale == 0.25)
        #expect(decision.reason == "battery 60% discharging; memory pressure full avg10 12.5% ≥ 10.0%, keep-alive shortened")

        try tree.pressure(fullAvg10: 8.5)  // above 10 - 2: still pressured
        decision = decide(tree, previous: decision)
        #expect(decision.memoryPressure)
        try tree.pressure(fullAvg10: 7.9)
        decision = decide(tree, previous: decision)
        #expect(!decision.memoryPressure && decision.settings.keepAliveScale == 0.5)
    }

    @Test("a change of reason alone is not a change in effect")
    func changeInEffect() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 60)
        let first = decide(tree)
        try tree.battery(status: "Discharging", capacity: 59)
        let second = decide(tree, previous: first)
        #expect(first.reason != second.reason)
        #expect(!first.differsInEffect(from: second))
        try tree.mains(online: true)
        #expect(first.differsInEffect(from: decide(tree, previous: second)))
    }

    @Test("one configuration makes the monitor, the meter and the cap")
    func configuration() async throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 10)
        var configuration = PowerConfiguration()
        configuration.readingsRoot = tree.root
        configuration.thresholds.lowBatteryPercent = 5
        configuration.profiles = .standard(cores: 2)
        configuration.profiles.battery.keepAliveScale = 0  // allowed: unload idle models at once
        let monitor = try configuration.makeMonitor()
        #expect(await monitor.current.profile == .battery)
        #expect(await monitor.current.settings.keepAliveScale == 0)
        #expect(try configuration.makeWattCap() == nil)
        configuration.wattCap = 15
        #expect(try configuration.makeWattCap()?.capWatts == 15)
        #expect(try configuration.makeEnergyMeter().wattsPerCore == EnergyMeter.defaultWattsPerCore)

        configuration.pollInterval = .zero
        #expect(throws: PowerConfigurationError.self) { try configuration.makeMonitor() }
        configuration.pollInterval = .seconds(1)
        configuration.readingsRoot = tree.root + "/missing"
        #expect(throws: PowerConfigurationError.rootNotDirectory(tree.root + "/missing")) { try configuration.makeMonitor() }
        configuration.wattCap = -3
        #expect(throws: PowerConfigurationError.self) { try configuration.makeWattCap() }
        #expect(PowerConfigurationError.outOfRange(setting: "watt_cap", value: -3, allowed: "0.001...100000.0").description
            == "power setting watt_cap = -3.0 is out of range (allowed: 0.001...100000.0)")
    }

    @Test("profiles order by restraint, hot first in precedence")
    func precedence() {
        #expect(PowerProfile.allCases.sorted() == [.ac, .battery, .lowBattery, .hot])
        #expect(PowerProfile.lowBattery.rawValue == "low-battery")
    }
}
