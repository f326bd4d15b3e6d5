import Foundation
@testable import KansoPool
import KansoPoolTestKit
import KansoWire
import Testing

/// A model file that can never load (the worker's ModelUnusable) fails at once with the
/// worker's reason, is not retried with back-off, and is tried again only when its file changes
/// or an administrator unloads it. Transient load failures keep the back-off (PoolLifecycleTests).
@Suite("Pool rules: models that can never load")
struct PoolUnusableModelTests {
    static let model = "/models/broken.gguf"
    static let reason = "model: tensor 'token_embd.weight' is missing from the file"

    static func expectUnavailable(_ pool: PoolUnderTest, _ model: String = Self.model) async {
        await #expect {
            _ = try await pool.acquire(model)
        } throws: { error in
            guard case .modelUnavailable(_, let reason) = error as? PoolError else { return false }
            return reason.contains(Self.reason) && !reason.contains("quarantined")
        }
    }

    @Test("the first failed load answers the request with the worker's reason; later requests get it without a load")
    func failsAtOnceWithoutRetries() async throws {
        try await PoolUnderTest.with { pool in
            pool.launcher.failLoads(of: Self.model, reason: Self.reason, recurs: true)
            await Self.expectUnavailable(pool)
            #expect(pool.launcher.loads.count == 1)
            #expect(await pool.state(of: Self.model) == "failed")
            let shown = await pool.pool.snapshot().first?.reason ?? ""
            #expect(shown.contains(Self.reason) && shown.contains("not retried"), "\(shown)")
            // Time passes (any back-off would have retried by now): still no second load.
            pool.clock.advance(by: .seconds(600))
            try await Task.sleep(for: .milliseconds(20))
            await Self.expectUnavailable(pool)
            #expect(pool.launcher.loads.count == 1)
            // An administrator's unload clears it: the next request loads again.
            pool.launcher.failLoads(of: Self.model, reason: nil)
            #expect(await pool.pool.unload(model: Self.model))
            try await pool.use(Self.model)
            #expect(pool.launcher.loads.count == 2)
            #expect(await pool.state(of: Self.model) == "ready")
        }
    }

    @Test("a changed file is loaded again")
    func changedFileIsRetried() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-unusable-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("model.gguf").path
        try Data("broken".utf8).write(to: URL(fileURLWithPath: path))
        try await PoolUnderTest.with { pool in
            pool.launcher.failLoads(of: path, reason: Self.reason, recurs: true)
            await Self.expectUnavailable(pool, path)
            await Self.expectUnavailable(pool, path)
            #expect(pool.launcher.loads.count == 1, "retried an unchanged file")
            try Data("a whole new file".utf8).write(to: URL(fileURLWithPath: path))
            pool.launcher.failLoads(of: path, reason: nil)
            try await pool.use(path)
            #expect(pool.launcher.loads.count == 2)
            #expect(await pool.state(of: path) == "ready")
        }
    }
}
