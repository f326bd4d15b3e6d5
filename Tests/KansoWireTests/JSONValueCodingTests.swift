import Testing
@testable import KansoWire

/// The Codable bridge to JSONValue that replaced Foundation's JSONEncoder and JSONDecoder for
/// every message: same shapes on the wire, typed errors naming the field.
@Suite("JSONValue encoder and decoder")
struct JSONValueCodingTests {
    struct Inner: Codable, Equatable {
        var label: String
        var weight: Double
    }

    struct Message: Codable, Equatable {
        var name: String
        var count: Int
        var small: UInt8
        var ratio: Double
        var flag: Bool
        var optional: String?
        var items: [Inner]
        var table: [String: Int]
        var nested: [[Int]]
        var raw: JSONValue
    }

    enum Kind: String, Codable { case alpha, beta }

    static let message = Message(name: "a/b \"q\"", count: -3, small: 200, ratio: 0.25, flag: true, optional: nil,
                                 items: [Inner(label: "x", weight: 1), Inner(label: "y", weight: 2.5)],
                                 table: ["one": 1, "two": 2], nested: [[1, 2], []], raw: .object(["k": .array([.null, .bool(false)])]))

    @Test("a struct encodes to the value JSONEncoder wrote (nil optionals left out) and decodes back")
    func roundTrip() throws {
        let value = try JSONValueEncoder().encode(Self.message)
        guard case .object(let members) = value else {
            Issue.record("not an object: \(value)")
            return
        }
        #expect(members["optional"] == nil)
        #expect(members["name"] == .string("a/b \"q\""))
        #expect(members["count"] == .int(-3))
        #expect(members["ratio"] == .double(0.25))
        #expect(members["items"] == .array([.object(["label": .string("x"), "weight": .double(1)]),
                                            .object(["label": .string("y"), "weight": .double(2.5)])]))
        #expect(members["table"] == .object(["one": .int(1), "two": .int(2)]))
        #expect(members["raw"] == Self.message.raw)
        #expect(try JSONValueDecoder().decode(Message.self, from: value) == Self.message)
        // Through text too, as on the socket.
        #expect(try JSONValueDecoder().decode(Message.self, from: JSONText.parse(JSONText.serialize(value))) == Self.message)
    }

    /// A hand-written encode(to:) that writes one key twice and nests containers.
    struct Repeated: Encodable {
        enum Keys: String, CodingKey { case b, a, inner }
        func encode(to encoder: Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .b)
            try container.encode("x", forKey: .a)
            try container.encode(2, forKey: .b)
            var inner = container.nestedUnkeyedContainer(forKey: .inner)
            try inner.encode(true)
            try inner.encodeNil()
        }
    }

    @Test("reply text is written from the tree: members in encoding order, a repeated key once with its last value")
    func text() throws {
        var bytes: [UInt8] = []
        try JSONValueEncoder().encodeText(Repeated(), into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #"{"a":"x","b":2,"inner":[true,null]}"#)
        var message: [UInt8] = []
        try JSONValueEncoder().encodeText(Self.message, into: &message)
        #expect(try JSONText.parse(message) == JSONValueEncoder().encode(Self.message))
        #expect(try JSONValueDecoder().decode(Message.self, from: JSONText.parse(message)) == Self.message)
    }

    @Test("enums, top-level arrays and single values")
    func singleValues() throws {
        #expect(try JSONValueEncoder().encode(Kind.beta) == .string("beta"))
        #expect(try JSONValueEncoder().encode([1, 2]) == .array([.int(1), .int(2)]))
        #expect(try JSONValueDecoder().decode(Kind.self, from: .string("alpha")) == .alpha)
        #expect(try JSONValueDecoder().decode([String?].self, from: .array([.string("a"), .null])) == ["a", nil])
        #expect(try JSONValueDecoder().decode(Double.self, from: .int(3)) == 3)
        #expect(try JSONValueDecoder().decode(Int.self, from: .double(3)) == 3)
    }

    @Test("wrong types, missing fields and numbers out of range name the field", arguments: [
        (JSONValue.object(["name": .int(1)]), "\"name\": expected a string, got int"),
        (.object(["name": .string("n"), "count": .double(1.5)]), "\"count\": expected an integer in"),
        (.object(["name": .string("n"), "count": .int(1), "small": .int(300)]), "\"small\": expected an integer in 0...255, got 300"),
        (.object(["name": .string("n")]), "\"count\": missing"),
        (.array([]), "expected an object, got array"),
    ])
    func errors(value: JSONValue, message: String) {
        do {
            _ = try JSONValueDecoder().decode(Message.self, from: value)
            Issue.record("decoded \(value)")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test("an item of an array is named by its index")
    func arrayPath() {
        let value = JSONValue.array([.object(["label": .string("x"), "weight": .int(1)]), .object(["label": .bool(true), "weight": .int(1)])])
        do {
            _ = try JSONValueDecoder().decode([Inner].self, from: value)
            Issue.record("decoded")
        } catch {
            #expect("\(error)" == "\"1.label\": expected a string, got bool")
        }
    }

    @Test("an unsigned value beyond Int.max cannot be encoded as a Varlink int")
    func unsignedOverflow() {
        #expect(throws: EncodingError.self) { try JSONValueEncoder().encode([UInt64.max]) }
    }
}
