import KansoWire
import Testing

@Suite("Varlink messages")
struct VarlinkMessageTests {
    @Test("a call round-trips through its encoding")
    func callRoundTrip() throws {
        let call = VarlinkCall(method: "io.kanso.Agents.List", parameters: ["n": .int(3), "x": .double(0.5), "s": .string("é\u{0}"),
                                                                            "a": .array([.bool(true), .null])], more: true)
        let bytes = try call.encoded()
        #expect(bytes.last == 0)
        #expect(bytes.dropLast().contains(0) == false, "a NUL inside a string must be escaped")
        #expect(try VarlinkCall.decode(Array(bytes.dropLast())) == call)
        #expect(call.interface == "io.kanso.Agents")
        #expect(call.member == "List")
    }

    @Test("a reply round-trips, error replies too")
    func replyRoundTrip() throws {
        let reply = VarlinkReply(parameters: ["k": .string("v")], continues: true)
        #expect(try VarlinkReply.decode(Array(reply.encoded().dropLast())) == reply)
        let failure = VarlinkReply(error: .agentNotFound("nope"))
        let decoded = try VarlinkReply.decode(Array(failure.encoded().dropLast()))
        #expect(decoded.error == "io.kanso.Agents.AgentNotFound")
        #expect(decoded.parameters["agent"] == .string("nope"))
    }

    @Test("malformed calls are typed errors naming what is wrong", arguments: [
        ("{nope", "not valid JSON"),
        ("[]", "must be a JSON object, got array"),
        ("{}", "has no \"method\" field"),
        ("{\"method\": true}", "field \"method\" must be string, got bool"),
        ("{\"method\": \"a.B\", \"parameters\": 3}", "field \"parameters\" must be object, got int"),
        ("{\"method\": \"a.B\", \"oneway\": 1}", "field \"oneway\" must be bool, got int"),
    ])
    func malformed(text: String, expected: String) {
        do {
            _ = try VarlinkCall.decode(Array(text.utf8))
            Issue.record("\(text) was accepted")
        } catch {
            #expect(error.description.contains(expected), "\(error.description)")
        }
    }

    @Test("integers stay integers, floats stay floats")
    func numbers() throws {
        let call = try VarlinkCall.decode(Array("{\"method\":\"a.B\",\"parameters\":{\"i\":7,\"f\":7.5,\"big\":9007199254740993}}".utf8))
        #expect(call.parameters["i"] == .int(7))
        #expect(call.parameters["f"] == .double(7.5))
        #expect(call.parameters["big"] == .int(9007199254740993))
    }
}
