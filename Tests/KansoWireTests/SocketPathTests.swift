import KansoWire
import Testing

@Suite("Socket path")
struct SocketPathTests {
    @Test("KANSO_SOCKET wins")
    func environmentWins() {
        #expect(SocketPath.resolve(environment: ["KANSO_SOCKET": "/tmp/x.sock", "XDG_RUNTIME_DIR": "/run/user/1"]) == "/tmp/x.sock")
    }

    @Test("an empty KANSO_SOCKET is ignored")
    func emptyIgnored() {
        #expect(SocketPath.resolve(environment: ["KANSO_SOCKET": ""]) != "")
    }
}
