import Foundation
import KansoWire
import Testing

/// What the daemon does with bad messages: a typed error each, and the connection (and every
/// other) keeps working.
@Suite("kansod wire protocol")
struct WireProtocolTests {
    let harness: DaemonHarness

    init() throws {
        harness = try DaemonHarness()
        try harness.start(arguments: ["--max-message-bytes", "65536"])
    }

    private func rawReply(_ connection: VarlinkConnection, _ text: String) throws -> VarlinkReply {
        try connection.sendRaw(Array(text.utf8) + [0])
        return try connection.receive()
    }

    @Test("malformed messages get io.kanso.Protocol.MalformedMessage and the connection lives on")
    func malformed() throws {
        let connection = try VarlinkConnection(path: harness.socketPath)
        for text in ["{not json", "[1, 2]", "\"text\"", "{\"method\": 5}", "{\"parameters\": {}}",
                     "{\"method\": \"io.kanso.Agents.List\", \"parameters\": []}",
                     "{\"method\": \"io.kanso.Agents.List\", \"more\": \"yes\"}"] {
            let reply = try rawReply(connection, text)
            #expect(reply.error == "io.kanso.Protocol.MalformedMessage", "for \(text)")
            #expect(reply.parameters["reason"]?.stringValue?.isEmpty == false)
        }
        let list = try connection.call(VarlinkCall(method: "io.kanso.Agents.List"))
        #expect(list.parameters["agents"]?.arrayValue?.count == 5)
    }

    @Test("an oversized message gets MessageTooLarge; the next message on the same connection is answered")
    func oversized() throws {
        let connection = try VarlinkConnection(path: harness.socketPath)
        let bystander = try VarlinkConnection(path: harness.socketPath)
        let huge = "{\"method\": \"io.kanso.Agents.List\", \"parameters\": {\"pad\": \"" + String(repeating: "x", count: 200_000) + "\"}}"
        let reply = try rawReply(connection, huge)
        #expect(reply.error == "io.kanso.Protocol.MessageTooLarge")
        #expect(reply.parameters["limit"] == .int(65536))
        #expect(reply.parameters["bytes"]?.intValue ?? 0 > 65536)
        #expect(try connection.call(VarlinkCall(method: "io.kanso.Agents.List")).parameters["agents"] != nil)
        #expect(try bystander.call(VarlinkCall(method: "org.varlink.service.GetInfo")).parameters["product"] == .string("kansod"))
    }

    @Test("unknown interfaces and methods, wrong and unknown parameters get the standard Varlink errors")
    func standardErrors() throws {
        let connection = try VarlinkConnection(path: harness.socketPath)
        func error(_ call: VarlinkCall) -> VarlinkError? {
            do {
                _ = try connection.call(call)
                return nil
            } catch let failure {
                if case .remote(let remote) = failure { return remote }
                return nil
            }
        }
        #expect(error(VarlinkCall(method: "com.example.Nope.Call")) == .interfaceNotFound("com.example.Nope"))
        #expect(error(VarlinkCall(method: "io.kanso.Agents.Nope")) == .methodNotFound("io.kanso.Agents.Nope"))
        #expect(error(VarlinkCall(method: "org.varlink.service.GetInterfaceDescription", parameters: ["interface": .int(5)]))
                == .invalidParameter("interface"))
        #expect(error(VarlinkCall(method: "org.varlink.service.GetInterfaceDescription")) == .invalidParameter("interface"))
        #expect(error(VarlinkCall(method: "io.kanso.Agents.List", parameters: ["agnet": .string("x")])) == .invalidParameter("agnet"))
        #expect(error(VarlinkCall(method: "org.varlink.service.GetInterfaceDescription", parameters: ["interface": .string("io.nope")]))
                == .interfaceNotFound("io.nope"))
        #expect(error(VarlinkCall(method: "io.kanso.Agents.List", upgrade: true))?.name == "io.kanso.Protocol.UpgradeUnsupported")
    }

    @Test("pipelined calls are answered in order; oneway calls get no reply")
    func pipelining() throws {
        let connection = try VarlinkConnection(path: harness.socketPath)
        try connection.send(VarlinkCall(method: "io.kanso.Agents.List", oneway: true))
        try connection.send(VarlinkCall(method: "org.varlink.service.GetInfo"))
        try connection.send(VarlinkCall(method: "io.kanso.Agents.Nope"))
        try connection.send(VarlinkCall(method: "org.varlink.service.GetInterfaceDescription", parameters: ["interface": .string("io.kanso.Agents")]))
        #expect(try connection.receive().parameters["product"] == .string("kansod"))
        #expect(try connection.receive().error == "org.varlink.service.MethodNotFound")
        #expect(try connection.receive().parameters["description"]?.stringValue?.hasPrefix("# Kanso's specialist agents") == true)
    }

    @Test("every interface GetInfo lists has a description; every route answers")
    func introspection() throws {
        let client = try harness.client()
        let info = try client.serviceInfo()
        #expect(info.interfaces == InterfaceDescriptions.names)
        for name in info.interfaces {
            let text = try client.interfaceDescription(name)
            #expect(text.contains("interface \(name)\n"))
        }
    }

    @Test("a client that disconnects mid-message does not disturb the daemon")
    func abruptDisconnect() throws {
        do {
            let connection = try VarlinkConnection(path: harness.socketPath)
            try connection.sendRaw(Array("{\"method\": \"io.kanso.Agents.Li".utf8))
        }
        #expect(try harness.client().agents().agents.count == 5)
    }
}
