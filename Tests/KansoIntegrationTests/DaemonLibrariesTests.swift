import Foundation
import Testing

/// The daemon does not load Foundation (libFoundation, its internationalization and ICU
/// libraries were 6.6 MiB of an idle daemon's 29 MiB resident memory; the bench measures the
/// rest), nor FoundationEssentials (2 MiB more of the idle daemon and of every worker, which
/// swift-argument-parser imported: kansod parses its own command line).
@Suite("kansod's shared libraries")
struct DaemonLibrariesTests {
    @Test("kansod links no Foundation, FoundationEssentials, ICU or Foundation internationalization library")
    func noFoundation() throws {
        guard let ldd = DaemonHarness.which("ldd") else {
            Issue.record("ldd is not installed")
            return
        }
        let result = try DaemonHarness.run(ldd, [DaemonHarness.kansod.path])
        #expect(result.status == 0, "\(result.error)")
        let libraries = result.output.split(separator: "\n").compactMap { $0.split(whereSeparator: { $0 == " " || $0 == "\t" }).first.map(String.init) }
        #expect(libraries.contains { $0.hasPrefix("libswiftCore") }, "ldd printed: \(result.output)")
        for forbidden in ["libFoundation.so", "libFoundationEssentials.so", "libFoundationInternationalization.so", "lib_FoundationICU.so"] {
            #expect(!libraries.contains(forbidden), "kansod links \(forbidden)")
        }
    }
}
