import KansoWire
import Testing

@Suite("Interface descriptions")
struct InterfaceDescriptionTests {
    @Test("each description declares the interface it is served under", arguments: InterfaceDescriptions.names)
    func declaresItsName(name: String) throws {
        let text = try #require(InterfaceDescriptions.all[name])
        let declaration = text.split(separator: "\n").first { !$0.hasPrefix("#") && !$0.isEmpty }
        #expect(declaration == Substring("interface \(name)"))
    }

    @Test("every error the code can send is declared in its interface")
    func errorsDeclared() {
        let errors: [VarlinkError] = [
            .interfaceNotFound("x"), .methodNotFound("x"), .methodNotImplemented("x"), .invalidParameter("x"), .expectedMore(),
            .malformedMessage("x"), .messageTooLarge(byteCount: 1, limit: 1), .upgradeUnsupported("x"), .internalError("x"),
            .agentNotFound("x"), .invalidInput(field: "f", reason: "r"), .shuttingDown(),
            .permissionDenied(method: "m", uid: 1, requiredGroup: "g"),
            .tooManyConnections(scope: "user", limit: 1), .messageTimeout(seconds: 1), .replyTooLarge(byteCount: 1, limit: 1),
        ]
        for error in errors {
            let dot = error.name.lastIndex(of: ".")!
            let interface = String(error.name[..<dot]), member = String(error.name[error.name.index(after: dot)...])
            let text = InterfaceDescriptions.all[interface] ?? ""
            #expect(text.contains("error \(member) ("), "\(error.name) is not declared")
            // Its parameters are the declared ones.
            for key in error.parameters.keys {
                let line = text.split(separator: "\n").first { $0.hasPrefix("error \(member) (") } ?? ""
                #expect(line.contains("\(key): "), "\(error.name) sends \(key), not declared in: \(line)")
            }
        }
    }
}
