import Foundation
import Testing

/// kansod's own command-line parser (Sources/kansod/DaemonCommand.swift), through the real
/// binary: a bad command line is refused before anything starts, with EX_USAGE (64) and a
/// message naming the option and the value; `--help` documents every option.
@Suite("kansod's command line")
struct DaemonCommandLineTests {
    @Test("a bad command line exits 64 with a message naming what was wrong", arguments: [
        (["--threads", "abc"], "--threads: expected an integer, got \"abc\""),
        (["--threads=0"], "--threads: 1 to 256, got 0"),
        (["--bogus"], "unknown option --bogus"),
        (["--socket"], "--socket needs a value"),
        (["--no-spare-worker=yes"], "--no-spare-worker takes no value, got \"yes\""),
        (["--spare-worker=yes"], "--spare-worker takes no value, got \"yes\""),
        (["--log-level", "loud"], "--log-level: expected trace, debug"),
        (["--memory-budget", "lots"], "--memory-budget: expected bytes"),
        (["--socket-mode", "999"], "--socket-mode: expected an octal file mode"),
        (["--power-poll-interval", "soon"], "--power-poll-interval: expected a number, got \"soon\""),
        (["--battery-watt-cap", "-1"], "--battery-watt-cap: 0 (no cap) to 100000 watts, got -1"),
        (["stray"], "unexpected argument \"stray\""),
        (["worker", "--descriptor", "-1"], "--descriptor: expected a file descriptor number"),
    ])
    func refused(arguments: [String], message: String) throws {
        let result = try DaemonHarness.run(DaemonHarness.kansod, arguments)
        #expect(result.status == 64, "exit status \(result.status), stderr: \(result.error)")
        #expect(result.error.contains(message), "stderr: \(result.error)")
        #expect(result.output.isEmpty, "stdout: \(result.output)")
    }

    @Test("--help lists every option with its value and help, and exits 0")
    func help() throws {
        let result = try DaemonHarness.run(DaemonHarness.kansod, ["--help"])
        #expect(result.status == 0, "\(result.error)")
        for synopsis in ["--socket <path>", "--agents <dir>", "--model-path <dirs>", "--state-directory <dir>",
                         "--cache-directory <dir>", "--[no-]packed-cache", "--admin-group <group>",
                         "--memory-budget <size>", "--threads <n>", "--[no-]spare-worker", "--queue-capacity <n>",
                         "--sysfs-root <dir>", "--power-poll-interval <seconds>", "--watt-cap <watts>", "--battery-watt-cap <watts>",
                         "--max-message-bytes <bytes>",
                         "--socket-mode <mode>", "--shutdown-timeout <seconds>", "--log-level <level>", "--version"] {
            #expect(result.output.contains("\n  \(synopsis)\n"), "no \(synopsis) in:\n\(result.output)")
        }
        #expect(result.output.hasPrefix("OVERVIEW: "))
        let version = try DaemonHarness.run(DaemonHarness.kansod, ["--version"])
        #expect(version.status == 0 && version.output.hasPrefix("kansod "), "\(version)")
    }
}
