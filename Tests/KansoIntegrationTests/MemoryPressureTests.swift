import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Memory pressure through kansod, from a fake `/proc/pressure/memory` under --sysfs-root.
@Suite("kansod under memory pressure", .enabled(if: SharedData.stories260K != nil, "\(SharedData.missingMessage("models/stories260K.gguf"))"))
struct MemoryPressureTests {
    static func writePressure(_ root: URL, fullAvg10: Double) throws {
        let folder = root.appendingPathComponent("proc/pressure")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try """
            some avg10=\(fullAvg10) avg60=0.00 avg300=0.00 total=100
            full avg10=\(fullAvg10) avg60=0.00 avg300=0.00 total=100

            """.write(to: folder.appendingPathComponent("memory"), atomically: true, encoding: .utf8)
    }

    @Test("pressure evicts the idle model and refuses loads with BudgetExceeded naming it; when it passes, loads resume")
    func pressureEvictsAndRefuses() throws {
        let harness = try DaemonHarness(copyShippedAgents: false)
        let root = try PowerTests.makeTree(in: harness.folder, acOnline: true, batteryPercent: 100)
        try Self.writePressure(root, fullAvg10: 0)
        try harness.writeAgent("story.toml", """
            name = "story"
            task = "predict"
            model = "stories260K.gguf"
            prompt = "{text}"
            max_tokens = 4
            """)
        try harness.start(arguments: ["--sysfs-root", root.path, "--power-poll-interval", "0.1", "--no-spare-worker"])
        _ = try harness.client().continuation(agent: "story", text: "Once", maxTokens: 2)
        #expect(try harness.client().status().models.first?.state == "ready")

        try Self.writePressure(root, fullAvg10: 40)
        var model = try harness.client().status().models.first
        for _ in 0..<200 where model?.state != "absent" {
            usleep(50_000)
            model = try harness.client().status().models.first
        }
        #expect(model?.state == "absent", "the idle model was not evicted: \(String(describing: model))")
        #expect(model?.evictions == 1)
        do {
            _ = try harness.client().continuation(agent: "story", text: "Once", maxTokens: 2)
            Issue.record("a model was loaded under memory pressure")
        } catch {
            guard case .remote(let remote) = error as? VarlinkClientError else { Issue.record("\(error)"); return }
            #expect(remote.name == "io.kanso.Agents.BudgetExceeded")
            #expect(remote.parameters["reason"]?.stringValue?.contains("memory pressure") == true, "\(remote.parameters)")
        }

        try Self.writePressure(root, fullAvg10: 0)
        var power = try harness.client().status().power
        for _ in 0..<200 where power?.memoryPressure != false {
            usleep(50_000)
            power = try harness.client().status().power
        }
        let reply = try harness.client().continuation(agent: "story", text: "Once", maxTokens: 2)
        #expect(reply.done)
    }
}
