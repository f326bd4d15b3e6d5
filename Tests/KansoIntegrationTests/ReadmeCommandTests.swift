import Foundation
import KansoTestSupport
import KansoWire
import Testing

/// Every `$K …` line of the README's first code block, run as written through the real daemon on
/// the shipped agents and the real models, with a check that the answer is sensible. The lines are
/// read from README.md, so a line added there without a check here fails. `events` and `top` get
/// `--count` so that they end; `pull` fetches from a local server standing in for Hugging Face.
@Suite("README's kansoctl lines on the real models", .serialized,
       .enabled(if: RealModel.allCases.allSatisfy { $0.url != nil } && SharedData.stories260K != nil,
                Comment(rawValue: RealModel.allCases.first { $0.url == nil }?.missingMessage
                        ?? SharedData.missingMessage("models/stories260K.gguf"))))
struct ReadmeCommandTests {
    /// The README's `$K …` commands, as argument lists (a line with `;` holds two).
    static let commands: [[String]] = {
        let readme = (try? String(contentsOf: SharedData.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)) ?? ""
        let block = readme.components(separatedBy: "```sh\nK=.build/release/kansoctl\n").dropFirst().first?
            .components(separatedBy: "```").first ?? ""
        return block.split(separator: "\n").flatMap { line in
            shellWords(String(line)).split(separator: [";"]).map(Array.init).filter { $0.first == "$K" }.map { Array($0.dropFirst()) }
        }
    }()

    /// Words as a POSIX shell splits a simple line: double quotes group, `#` after a space starts
    /// a comment, `;` is a word of its own.
    static func shellWords(_ line: String) -> [String] {
        var words: [String] = []
        var current = "", quoted = false, inWord = false
        for character in line {
            if quoted {
                if character == "\"" { quoted = false } else { current.append(character) }
            } else if character == "\"" {
                quoted = true
                inWord = true
            } else if character == "#" && !inWord {
                break
            } else if character == " " || character == ";" {
                if inWord { words.append(current) }
                current = ""
                inWord = false
                if character == ";" { words.append(";") }
            } else {
                current.append(character)
                inWord = true
            }
        }
        if inWord { words.append(current) }
        return words
    }

    @Test("the README's first code block has the lines this test checks")
    func linesFound() {
        #expect(Self.commands.count >= 14, "\(Self.commands)")
        #expect(Self.commands.contains(["predict", "story-continue", "The little do", "--words", "5"]))
        #expect(Self.commands.contains(["predict", "next", "I would like to", "--words", "5"]))
    }

    @Test("each line answers sensibly")
    func eachLine() throws {
        let harness = try DaemonHarness()
        try harness.start(realModels: true)
        let server = try LocalHTTPServer()
        let pulled = harness.folder.appendingPathComponent("pulled")
        for command in Self.commands {
            let line = "kansoctl " + command.joined(separator: " ")
            switch command.first {
            case "events":
                // Watch, and make an event happen: the next agent's model loads.
                _ = try harness.kansoctl(["unload", "next"])
                let watcher = try harness.startKansoctl(command + ["--count", "1"])
                Thread.sleep(forTimeInterval: 0.5)
                _ = try harness.kansoctl(["load", "next"])
                let (status, output) = try harness.finish(watcher, timeout: 120)
                #expect(status == 0 && output.contains("gemma-3-270m-q4_k_m.gguf"), "\(line): \(output)")
            case "pull":
                let source = try #require(command.dropFirst().first)
                server.files["/" + source.split(separator: "/").prefix(2).joined(separator: "/") + "/resolve/main/"
                             + source.split(separator: "/").dropFirst(2).joined(separator: "/")] = .init(body: Array(try Data(contentsOf: try #require(SharedData.stories260K))))
                var environment = ProcessInfo.processInfo.environment
                environment["HF_ENDPOINT"] = server.baseURL
                environment["KANSO_MODEL_DIR"] = pulled.path
                let result = try DaemonHarness.run(DaemonHarness.kansoctl, command, environment: environment)
                #expect(result.status == 0 && result.output.contains("installed \(pulled.path)/"), "\(line): \(result.error)")
            case "models":
                var environment = ProcessInfo.processInfo.environment
                environment["KANSO_MODEL_PATH"] = RealModel.directory.path
                let result = try DaemonHarness.run(DaemonHarness.kansoctl, command, environment: environment)
                for model in RealModel.allCases { #expect(result.output.contains(model.rawValue), "\(line): \(result.output)") }
                #expect(result.output.contains("apache-2.0") && result.output.contains("gemma"), "\(line): \(result.output)")
            default:
                let arguments = command.first == "top" ? command + ["--count", "1"] : command
                let result = try harness.kansoctl(arguments)
                #expect(result.status == 0, "\(line): \(result.error)")
                try check(command, output: result.output, harness: harness)
            }
        }
    }

    /// What a sensible answer to each of the daemon's lines looks like.
    private func check(_ command: [String], output: String, harness: DaemonHarness) throws {
        let line = "kansoctl " + command.joined(separator: " ")
        let shipped = ["contact-extract", "next", "story-continue", "ticket-triage", "ticket-triage-large"]
        switch (command.first, command.dropFirst().first) {
        case ("status", _):
            for agent in shipped { #expect(output.contains(agent), "\(line): \(output)") }
            let status = try JSONDecoder().decode(StatusReply.self, from: Data(try harness.kansoctl(["status", "--json"]).output.utf8))
            #expect(status.agents.map(\.name) == shipped)
            #expect(status.agents.allSatisfy { $0.state != "unavailable" }, "\(status.agents.map { ($0.name, $0.state, $0.reason ?? "") })")
            #expect(status.problems.isEmpty, "\(status.problems)")
        case ("predict", _) where command.contains("--words"):
            let text = command[2]
            let words = output.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" }
            #expect(words.count == 5, "\(line): \(output)")
            let typed = String(text.reversed().prefix { $0.isLetter }.reversed())
            #expect(words.allSatisfy { !$0.isEmpty && $0.first!.isLetter && $0.hasPrefix(typed) }, "\(line): \(output)")
        case ("predict", _):
            #expect(output.contains { $0.isLetter }, "\(line): \(output)")
        case ("classify", "ticket-triage"):
            #expect(output.hasPrefix("billing ("), "\(line): \(output)")
        case ("extract", "contact-extract"):
            let value = try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any]
            #expect(value?["name"] as? String == "Maria Keller", "\(line): \(output)")
            #expect(value?["email"] as? String == "maria.keller@nordwind.de", "\(line): \(output)")
        case ("load", _):
            #expect(output.hasPrefix("loaded ") && output.contains(".gguf"), "\(line): \(output)")
        case ("unload", _):
            #expect(output.hasPrefix("unloaded "), "\(line): \(output)")
        case ("top", _):
            #expect(output.contains("kansod") && output.contains("ticket-triage"), "\(line): \(output)")
        case ("reload", _):
            #expect(output.hasPrefix("reloaded: 5 agents"), "\(line): \(output)")
        default:
            Issue.record("no check for the README line \(line): add one to ReadmeCommandTests")
        }
    }
}

extension DaemonHarness {
    /// `kansoctl ARGS` against this daemon, started in the background (for `events`).
    func startKansoctl(_ arguments: [String]) throws -> (process: Process, output: Pipe) {
        let process = Process()
        process.executableURL = Self.kansoctl
        process.arguments = arguments + ["--socket", socketPath]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, output)
    }

    /// Waits for a background `kansoctl` (killed after `timeout` seconds) and reads what it printed.
    func finish(_ running: (process: Process, output: Pipe), timeout: TimeInterval) throws -> (status: Int32, output: String) {
        let deadline = Date().addingTimeInterval(timeout)
        while running.process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if running.process.isRunning { running.process.terminate() }
        running.process.waitUntilExit()
        let data = running.output.fileHandleForReading.readDataToEndOfFile()
        return (running.process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
