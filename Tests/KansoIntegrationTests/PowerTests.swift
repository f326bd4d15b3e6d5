import Foundation
import KansoWire
import Testing

/// The power policy read from a fake sysfs tree the test owns, applied live.
@Suite("Power policy through kansod")
struct PowerTests {
    /// A laptop's power supplies: mains adapter and a battery.
    static func makeTree(in folder: URL, acOnline: Bool, batteryPercent: Int) throws -> URL {
        let root = folder.appendingPathComponent("sysroot")
        let manager = FileManager.default
        let ac = root.appendingPathComponent("sys/class/power_supply/AC")
        let battery = root.appendingPathComponent("sys/class/power_supply/BAT0")
        try manager.createDirectory(at: ac, withIntermediateDirectories: true)
        try manager.createDirectory(at: battery, withIntermediateDirectories: true)
        try manager.createDirectory(at: root.appendingPathComponent("proc"), withIntermediateDirectories: true)
        try "Mains\n".write(to: ac.appendingPathComponent("type"), atomically: true, encoding: .utf8)
        try (acOnline ? "1\n" : "0\n").write(to: ac.appendingPathComponent("online"), atomically: true, encoding: .utf8)
        try "Battery\n".write(to: battery.appendingPathComponent("type"), atomically: true, encoding: .utf8)
        try "\(batteryPercent)\n".write(to: battery.appendingPathComponent("capacity"), atomically: true, encoding: .utf8)
        try (acOnline ? "Charging\n" : "Discharging\n").write(to: battery.appendingPathComponent("status"), atomically: true, encoding: .utf8)
        return root
    }

    @Test("unplugging the adapter switches the profile from ac to battery, live, and to low-battery at 10%")
    func acToBattery() throws {
        let harness = try DaemonHarness()
        let root = try Self.makeTree(in: harness.folder, acOnline: true, batteryPercent: 80)
        try harness.start(arguments: ["--sysfs-root", root.path, "--power-poll-interval", "0.1"])
        #expect(try harness.client().status().power?.profile == "ac")

        _ = try Self.makeTree(in: harness.folder, acOnline: false, batteryPercent: 80)
        var power = try harness.client().status().power
        for _ in 0..<100 where power?.profile != "battery" {
            usleep(50_000)
            power = try harness.client().status().power
        }
        #expect(power?.profile == "battery")
        #expect(power?.reason.contains("80%") == true, "\(power?.reason ?? "")")
        #expect(harness.notifications.waitFor({ $0["STATUS"]?.contains("power profile battery") == true }, timeout: 5) != nil)

        _ = try Self.makeTree(in: harness.folder, acOnline: false, batteryPercent: 10)
        for _ in 0..<100 where power?.profile != "low-battery" {
            usleep(50_000)
            power = try harness.client().status().power
        }
        #expect(power?.profile == "low-battery")
        #expect(power?.backgroundAllowed == false)
        #expect(power?.threadsPerWorker == 1)
    }

    @Test("a sysfs root that is not a folder is a clear start-up error")
    func badRoot() throws {
        let harness = try DaemonHarness()
        try harness.start(arguments: ["--sysfs-root", "/nonexistent/root"], waitForReady: false)
        #expect(harness.waitForExit() == 1)
        #expect(harness.log.contains("--sysfs-root"))
    }
}
