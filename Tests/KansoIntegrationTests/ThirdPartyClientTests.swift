import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// The daemon as a generic Varlink service: the `varlink` package from PyPI introspects it,
/// parses its interface definitions with its own parser, and calls it.
@Suite("kansod with the third-party varlink client")
struct ThirdPartyClientTests {
    @Test("python varlink: introspection, calls and errors")
    func pythonVarlink() throws {
        let harness = try DaemonHarness()
        try harness.start()
        let script = SharedData.repositoryRoot.appendingPathComponent("scripts/tests/varlink_client_check.py")
        let python = try #require(DaemonHarness.which("python3"), "python3 is needed (scripts/test.sh installs it)")
        let result = try DaemonHarness.run(python, [script.path, harness.socketPath])
        try #require(result.status == 0, "the python client failed (is the varlink package installed? scripts/test.sh does it):\n\(result.error)")
        let seen = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])

        #expect(seen["interfaces"] as? [String] == InterfaceDescriptions.names)
        let parsed = try #require(seen["parsed"] as? [String: [String]])
        #expect(parsed["io.kanso.Agents"]?.contains("List") == true)
        #expect(parsed["io.kanso.Admin"]?.contains("Status") == true)
        #expect(parsed["io.kanso.Admin"]?.contains("PermissionDenied") == true)
        #expect((seen["info"] as? [String: String])?["product"] == "kansod")
        #expect((seen["unknownInterface"] as? [String: Any])?["error"] as? String == "org.varlink.service.InterfaceNotFound")
        #expect((seen["agents"] as? [[String: Any]])?.count == 5)
        let status = try #require(seen["status"] as? [String: Any])
        #expect(status["state"] as? String == "ready")
        #expect(status["agents"] as? Int == 5)
        #expect((seen["unknownMethod"] as? [String: Any])?["error"] as? String == "org.varlink.service.MethodNotFound")
        let wrongType = try #require(seen["wrongType"] as? [String: Any])
        #expect(wrongType["error"] as? String == "org.varlink.service.InvalidParameter")
        #expect((wrongType["parameters"] as? [String: String])?["parameter"] == "interface")
        #expect(seen["afterErrors"] as? Bool == true)
    }
}
