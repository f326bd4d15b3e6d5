import Foundation
import KansoWire
import Testing

/// io.kanso.Admin is for root and the admin group; everyone who can open the socket may list
/// agents. Peers are told apart by SO_PEERCRED, so the test runs a client as another user.
@Suite("kansod peer credentials", .enabled(if: getuid() == 0, "skipped: needs root to run a client as another user"))
struct PermissionTests {
    /// Calls `method` as uid/gid 65534 (nobody) with the given supplementary groups.
    private func callAsNobody(_ harness: DaemonHarness, method: String, groups: [Int]) throws -> [String: Any] {
        try #require(try NobodyClient.call(harness.socketPath, method: method, groups: groups).first)
    }

    private func start(adminGroup: String) throws -> DaemonHarness {
        let harness = try DaemonHarness()
        chmod(harness.folder.path, 0o755)
        try harness.start(arguments: ["--socket-mode", "0666", "--admin-group", adminGroup])
        return harness
    }

    @Test("a non-admin peer gets PermissionDenied for Admin methods and may list agents")
    func nonAdminDenied() throws {
        let harness = try start(adminGroup: "4242")
        for method in ["io.kanso.Admin.Status", "io.kanso.Admin.Reload"] {
            let reply = try callAsNobody(harness, method: method, groups: [])
            #expect(reply["error"] as? String == "io.kanso.Admin.PermissionDenied")
            let parameters = reply["parameters"] as? [String: Any]
            #expect(parameters?["uid"] as? Int == 65534)
            #expect(parameters?["method"] as? String == method)
        }
        let list = try callAsNobody(harness, method: "io.kanso.Agents.List", groups: [])
        #expect((list["parameters"] as? [String: Any])?["agents"] != nil)
        #expect(harness.log.contains("denied io.kanso.Admin.Status"))
    }

    @Test("a member of the admin group may call Admin methods")
    func adminGroupMemberAllowed() throws {
        let harness = try start(adminGroup: "4242")
        let reply = try callAsNobody(harness, method: "io.kanso.Admin.Status", groups: [4242])
        #expect(reply["error"] == nil)
        #expect((reply["parameters"] as? [String: Any])?["state"] as? String == "ready")
    }
}
