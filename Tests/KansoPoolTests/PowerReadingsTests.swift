import Foundation
import KansoPool
import Testing

@Suite("Power readings from a fake sysfs tree")
struct PowerReadingsTests {
    @Test("a desktop with no battery is on external power")
    func desktop() throws {
        let tree = try FakePowerTree()
        try tree.zone(0, type: "x86_pkg_temp", celsius: 41)
        let readings = SystemReadings.read(root: tree.root)
        #expect(readings.powerSource.onExternalPower)
        #expect(readings.powerSource.externalPowerEvidence == "no battery")
        #expect(readings.powerSource.batteryPercent == nil)
        #expect(readings.powerSource.batteryStatus == nil)
    }

    @Test("a laptop on its adapter, and on battery")
    func laptop() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: true)
        try tree.battery(status: "Charging", capacity: 60)
        var source = SystemReadings.read(root: tree.root).powerSource
        #expect(source.onExternalPower)
        #expect(source.externalPowerEvidence == "AC online (AC)")

        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 60)
        source = SystemReadings.read(root: tree.root).powerSource
        #expect(!source.onExternalPower)
        #expect(source.batteryPercent == 60)
        #expect(source.batteryStatus == .discharging)
    }

    @Test("USB-C power delivery counts as external power")
    func usbPower() throws {
        let tree = try FakePowerTree()
        try tree.mains("ucsi-source-psy-USBC000:001", online: true, type: "USB_C")
        try tree.battery(status: "Discharging", capacity: 50)
        #expect(SystemReadings.read(root: tree.root).powerSource.externalPowerEvidence == "USB power online (ucsi-source-psy-USBC000:001)")
    }

    @Test("a mouse's battery does not make a desktop a laptop")
    func peripheralBattery() throws {
        let tree = try FakePowerTree()
        try tree.battery("hid-00:11:22-battery", status: "Discharging", capacity: 5, scope: "Device")
        let source = SystemReadings.read(root: tree.root).powerSource
        #expect(source.onExternalPower)
        #expect(source.batteryPercent == nil)
    }

    @Test("an empty second battery bay is ignored")
    func emptyBay() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 70)
        try tree.battery("BAT1", status: "Unknown", capacity: 0)
        try tree.write("sys/class/power_supply/BAT1/present", "0\n")
        #expect(SystemReadings.read(root: tree.root).powerSource.batteryPercent == 70)
    }

    @Test("without an adapter entry the battery status decides",
          arguments: [("Charging", true), ("Full", true), ("Not charging", true), ("Discharging", false), ("Unknown", false)])
    func batteryOnly(status: String, external: Bool) throws {
        let tree = try FakePowerTree()
        try tree.battery(status: status, capacity: 40)
        #expect(SystemReadings.read(root: tree.root).powerSource.onExternalPower == external)
    }

    @Test("two batteries are weighed by their size when both report energy")
    func twoBatteries() throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery("BAT0", status: "Discharging", capacity: 100)
        try tree.write("sys/class/power_supply/BAT0/energy_now", "20000000\n")
        try tree.write("sys/class/power_supply/BAT0/energy_full", "20000000\n")
        try tree.battery("BAT1", status: "Discharging", capacity: 10)
        try tree.write("sys/class/power_supply/BAT1/energy_now", "6000000\n")
        try tree.write("sys/class/power_supply/BAT1/energy_full", "60000000\n")
        let percent = try #require(SystemReadings.read(root: tree.root).powerSource.batteryPercent)
        #expect(abs(percent - 32.5) < 1e-9)  // (20 + 6) / (20 + 60) Wh
        try tree.remove("sys/class/power_supply/BAT1/energy_full")
        #expect(SystemReadings.read(root: tree.root).powerSource.batteryPercent == 55)  // mean of 100 and 10
    }

    @Test("thermal zones: the hottest one, with its trip points")
    func thermal() throws {
        let tree = try FakePowerTree()
        try tree.zone(0, type: "acpitz", celsius: 48.5, trips: [("critical", 105)])
        try tree.zone(1, type: "x86_pkg_temp", celsius: 71.25, trips: [("passive", 90), ("active", 60), ("critical", 100)])
        try tree.write("sys/class/thermal/thermal_zone2/type", "iwlwifi_1\n")
        try tree.write("sys/class/thermal/thermal_zone2/temp", "-273200\n")  // a sleeping sensor
        try tree.write("sys/class/thermal/cooling_device0/type", "Processor\n")
        let thermal = SystemReadings.read(root: tree.root).thermal
        #expect(thermal.zones.map(\.name) == ["thermal_zone0", "thermal_zone1", "thermal_zone2"])
        let hottest = try #require(thermal.hottest)
        #expect(hottest.label == "x86_pkg_temp")
        #expect(hottest.celsius == 71.25)
        #expect(hottest.passiveTripCelsius == 90)
        #expect(hottest.criticalTripCelsius == 100)
        #expect(hottest.tripPoints.map(\.kind) == [.passive, .active, .critical])
        #expect(thermal.zones[2].celsius == nil)
    }

    @Test("PSI memory pressure lines")
    func pressure() {
        let text = "some avg10=1.53 avg60=0.87 avg300=0.21 total=3390530\nfull avg10=0.77 avg60=0.40 avg300=0.10 total=1629442\n"
        let reading = MemoryPressureReading.parse(text)
        #expect(reading?.some == MemoryPressureReading.Averages(avg10: 1.53, avg60: 0.87, avg300: 0.21, totalMicroseconds: 3_390_530))
        #expect(reading?.full?.avg10 == 0.77)
        #expect(reading?.full?.totalMicroseconds == 1_629_442)
        // Only "some" (older kernels for CPU pressure); unknown extra keys are tolerated.
        let someOnly = MemoryPressureReading.parse("some avg10=2.00 avg60=1.00 avg300=0.50 total=10 extra=1\n")
        #expect(someOnly?.some?.avg10 == 2 && someOnly?.full == nil)
        // One malformed line is absent, the other survives.
        let half = MemoryPressureReading.parse("some avg10=x avg60=1 avg300=1 total=1\nfull avg10=3.5 avg60=1.00 avg300=0.50 total=10")
        #expect(half?.some == nil && half?.full?.avg10 == 3.5)
    }

    @Test("PSI text that is not PSI gives no reading",
          arguments: ["", "garbage", "some\nfull\n", "some avg10=nan avg60=0 avg300=0 total=0", "full avg10=500 avg60=0 avg300=0 total=0",
                      "some avg10=1 avg60=1 avg300=1 total=-5", "avg10=1 avg60=1 avg300=1 total=5"])
    func pressureGarbage(text: String) {
        #expect(MemoryPressureReading.parse(text) == nil)
    }

    @Test("RAPL: package domains only, subdomains and psys left out")
    func raplDomains() throws {
        let tree = try FakePowerTree()
        try tree.rapl(0, microjoules: 1_000_000)
        try tree.rapl(1, name: "package-1", microjoules: 5_000_000)
        try tree.write("sys/class/powercap/intel-rapl:0:0/name", "core\n")
        try tree.write("sys/class/powercap/intel-rapl:0:0/energy_uj", "999\n")
        try tree.rapl(2, name: "psys", microjoules: 77)
        try tree.write("sys/class/powercap/intel-rapl/enabled", "1\n")
        let rapl = try #require(SystemReadings.read(root: tree.root).rapl)
        #expect(rapl.domains.map(\.directory) == ["intel-rapl:0", "intel-rapl:1"])
        #expect(rapl.domains.map(\.name) == ["package-0", "package-1"])
    }

    @Test("RAPL counters that wrap around")
    func raplWrap() throws {
        let range: UInt64 = 262_143_328_850
        #expect(RaplReading.counterDelta(from: 100, to: 400, range: range) == 300)
        #expect(RaplReading.counterDelta(from: range - 1_000_000, to: 500_000, range: range) == 1_500_000)
        #expect(RaplReading.counterDelta(from: 400, to: 100, range: nil) == nil)  // went back, range unknown
        #expect(RaplReading.counterDelta(from: range + 5, to: 100, range: range) == nil)  // contradicts the range
        #expect(RaplReading.counterDelta(from: 5, to: range + 1, range: range) == nil)

        let tree = try FakePowerTree()
        try tree.rapl(0, microjoules: range - 2_000_000)
        try tree.rapl(1, name: "package-1", microjoules: 10_000_000)
        let before = try #require(SystemReadings.read(root: tree.root).rapl)
        try tree.rapl(0, microjoules: 1_000_000)
        try tree.rapl(1, name: "package-1", microjoules: 14_000_000)
        let after = try #require(SystemReadings.read(root: tree.root).rapl)
        #expect(after.joules(since: before) == 7)  // 3 J across the wrap + 4 J
        try tree.remove("sys/class/powercap/intel-rapl:1")
        #expect(try #require(SystemReadings.read(root: tree.root).rapl).joules(since: before) == nil)  // a package vanished
    }

    @Test("an unreadable RAPL counter is absent")
    func raplUnreadable() throws {
        let tree = try FakePowerTree()
        // Tests may run as root, which reads mode 0400 files; a folder in place of the file fails
        // to read just as EACCES does for an unprivileged daemon.
        try FileManager.default.createDirectory(atPath: tree.root + "/sys/class/powercap/intel-rapl:0/energy_uj",
                                                withIntermediateDirectories: true)
        try tree.write("sys/class/powercap/intel-rapl:0/name", "package-0\n")
        #expect(SystemReadings.read(root: tree.root).rapl == nil)
    }

    @Test("a missing root reads as nothing, and the checked reader says so")
    func missingRoot() {
        let readings = SystemReadings.read(root: "/nonexistent/kanso-power")
        #expect(readings == SystemReadings())
        #expect(throws: PowerConfigurationError.rootNotDirectory("/nonexistent/kanso-power")) {
            try SystemReadings.readChecked(root: "/nonexistent/kanso-power")
        }
    }

    @Test("bytes that are not UTF-8 read as garbage, not as values")
    func invalidBytes() throws {
        let tree = try FakePowerTree()
        try tree.battery(status: "Discharging", capacity: 50)
        try Data([0xff, 0xfe, 0x35, 0x30]).write(to: URL(fileURLWithPath: tree.root + "/sys/class/power_supply/BAT0/capacity"))
        try Data([0x44, 0x69, 0x73, 0xc3]).write(to: URL(fileURLWithPath: tree.root + "/sys/class/power_supply/BAT0/status"))
        let battery = try #require(SystemReadings.read(root: tree.root).powerSource.systemBatteries.first)
        #expect(battery.capacityPercent == nil && battery.status == nil)
    }

    @Test("a one-line summary for status")
    func summary() throws {
        let tree = try FakePowerTree()
        #expect(SystemReadings.read(root: tree.root).summary == "no battery; no thermal zones; no memory PSI; RAPL unreadable")
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 60)
        try tree.zone(0, type: "x86_pkg_temp", celsius: 52)
        try tree.pressure(fullAvg10: 1.5)
        try tree.rapl(0, microjoules: 5)
        #expect(SystemReadings.read(root: tree.root).summary
            == "battery 60% discharging; hottest x86_pkg_temp 52.0 °C; memory full avg10 1.5%; RAPL readable")
    }

    @Test("this machine's own files read without failing")
    func realMachine() throws {
        let readings = try SystemReadings.readChecked(root: "/")
        if FileManager.default.isReadableFile(atPath: "/proc/pressure/memory") {
            #expect(readings.memoryPressure?.some != nil, "PSI present but not parsed")
        }
        for zone in readings.thermal.zones {
            if let celsius = zone.celsius { #expect(ThermalZoneReading.plausibleCelsius.contains(celsius)) }
        }
        if readings.powerSource.systemBatteries.isEmpty { #expect(readings.powerSource.onExternalPower) }
    }

    static let malformedFiles = [
        "sys/class/power_supply/BAT0/capacity", "sys/class/power_supply/BAT0/status", "sys/class/power_supply/BAT0/type",
        "sys/class/power_supply/AC/online", "sys/class/power_supply/AC/type",
        "sys/class/thermal/thermal_zone0/temp", "sys/class/thermal/thermal_zone0/trip_point_0_temp",
        "sys/class/thermal/thermal_zone0/trip_point_0_type", "proc/pressure/memory",
        "sys/class/powercap/intel-rapl:0/energy_uj", "sys/class/powercap/intel-rapl:0/max_energy_range_uj",
    ]
    static let malformedContents: [String?] = [nil, "", "\n", "garbage\n", "\0\0\0", "-99999999999999999999999\n", "1.5e3\n", "\u{FFFD}\u{0}x"]

    @Test("every malformed or missing file gives absent values", arguments: malformedFiles, malformedContents)
    func malformed(file: String, contents: String?) throws {
        let tree = try FakePowerTree()
        try tree.mains(online: false)
        try tree.battery(status: "Discharging", capacity: 42)
        try tree.zone(0, type: "x86_pkg_temp", celsius: 60, trips: [("passive", 90)])
        try tree.pressure(fullAvg10: 1.25)
        try tree.rapl(0, microjoules: 123_456)
        if let contents { try tree.write(file, contents) } else { try tree.remove(file) }

        let readings = SystemReadings.read(root: tree.root)
        let battery = readings.powerSource.supplies.first { $0.name == "BAT0" }
        let zone = readings.thermal.zones.first
        switch file.split(separator: "/").last! {
        case "capacity": #expect(battery?.capacityPercent == nil && readings.powerSource.batteryPercent == nil)
        case "status": #expect(battery?.status == nil && !readings.powerSource.onExternalPower)
        case "type" where file.contains("BAT0"): #expect(readings.powerSource.systemBatteries.isEmpty)
        case "online": #expect(readings.powerSource.supplies.first { $0.name == "AC" }?.online == nil)
        case "type": #expect(readings.powerSource.supplies.first { $0.name == "AC" }?.isExternalSource == false)
        case "temp": #expect(zone?.celsius == nil && readings.thermal.hottest == nil)
        case "trip_point_0_temp": #expect(zone?.tripPoints.isEmpty == true && zone?.celsius == 60)
        case "trip_point_0_type": #expect(zone?.passiveTripCelsius == nil && zone?.celsius == 60)  // unknown kinds are kept as .other
        case "memory": #expect(readings.memoryPressure == nil)
        case "energy_uj": #expect(readings.rapl == nil)
        case "max_energy_range_uj": #expect(readings.rapl?.domains.first?.maximumEnergyRangeMicrojoules == nil)
        default: Issue.record("no expectation for \(file)")
        }
    }
}
