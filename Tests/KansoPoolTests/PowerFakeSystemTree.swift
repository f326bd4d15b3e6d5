import Foundation

/// A fake system root in a temporary folder, shaped like the parts of sysfs and procfs the power
/// policy reads; removed when the test lets go of it.
final class FakePowerTree {
    let root: String

    init() throws {
        root = FileManager.default.temporaryDirectory
            .appendingPathComponent("kanso-power-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `contents` to `relative` under the root, creating folders.
    func write(_ relative: String, _ contents: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try contents.write(toFile: path, atomically: false, encoding: .utf8)
    }

    /// Removes a file or a folder under the root.
    func remove(_ relative: String) throws {
        try FileManager.default.removeItem(atPath: root + "/" + relative)
    }

    func mains(_ name: String = "AC", online: Bool, type: String = "Mains") throws {
        try write("sys/class/power_supply/\(name)/type", "\(type)\n")
        try write("sys/class/power_supply/\(name)/online", online ? "1\n" : "0\n")
    }

    func battery(_ name: String = "BAT0", status: String, capacity: Int, scope: String? = nil) throws {
        try write("sys/class/power_supply/\(name)/type", "Battery\n")
        try write("sys/class/power_supply/\(name)/status", "\(status)\n")
        try write("sys/class/power_supply/\(name)/capacity", "\(capacity)\n")
        try write("sys/class/power_supply/\(name)/present", "1\n")
        if let scope { try write("sys/class/power_supply/\(name)/scope", "\(scope)\n") }
    }

    /// A thermal zone at `celsius`, with trip points given as (type, °C).
    func zone(_ index: Int, type: String, celsius: Double, trips: [(String, Double)] = []) throws {
        let folder = "sys/class/thermal/thermal_zone\(index)/"
        try write(folder + "type", "\(type)\n")
        try write(folder + "temp", "\(Int(celsius * 1000))\n")
        for (number, trip) in trips.enumerated() {
            try write(folder + "trip_point_\(number)_type", "\(trip.0)\n")
            try write(folder + "trip_point_\(number)_temp", "\(Int(trip.1 * 1000))\n")
        }
    }

    func pressure(someAvg10: Double = 0, fullAvg10: Double) throws {
        try write("proc/pressure/memory", """
            some avg10=\(String(format: "%.2f", someAvg10)) avg60=0.00 avg300=0.00 total=12345
            full avg10=\(String(format: "%.2f", fullAvg10)) avg60=0.00 avg300=0.00 total=678

            """)
    }

    func rapl(_ index: Int, name: String = "package-0", microjoules: UInt64, range: UInt64? = 262_143_328_850) throws {
        let folder = "sys/class/powercap/intel-rapl:\(index)/"
        try write(folder + "name", "\(name)\n")
        try write(folder + "energy_uj", "\(microjoules)\n")
        if let range { try write(folder + "max_energy_range_uj", "\(range)\n") }
    }

    /// `/proc/PID/stat` with the given utime and stime (clock ticks); the command name has a space
    /// and a parenthesis, as real ones may.
    func processStat(_ processID: Int32, userTicks: Int, systemTicks: Int) throws {
        let fields = ["S", "1", "\(processID)", "\(processID)", "0", "-1", "4194304", "100", "0", "0", "0",
                      "\(userTicks)", "\(systemTicks)", "0", "0", "20", "0", "4", "0", "1000", "123456789"]
        try write("proc/\(processID)/stat", "\(processID) (kansod (worker)) " + fields.joined(separator: " ") + "\n")
    }

    /// `/proc/stat`'s first line with `busyTicks` of user time and `idleTicks` of idle time.
    func systemStat(busyTicks: Int, idleTicks: Int) throws {
        try write("proc/stat", "cpu  \(busyTicks) 0 0 \(idleTicks) 0 0 0 0 0 0\ncpu0 \(busyTicks) 0 0 \(idleTicks) 0 0 0 0 0 0\nintr 1\n")
    }
}
