import ArgumentParser
import Foundation

/// The text a job works on: the argument, or standard input when it is "-" or absent.
struct TextInput: ParsableArguments {
    @Argument(help: "The text, or - to read it from standard input.")
    var text: String?

    func read() throws -> String {
        if let text, text != "-" { return text }
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard let text = String(data: data, encoding: .utf8) else {
            throw CommandFailure(message: "standard input is not valid UTF-8 text", code: 65)
        }
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }
}
