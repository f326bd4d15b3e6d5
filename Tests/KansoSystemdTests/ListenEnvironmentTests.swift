import Glibc
import Testing
@testable import KansoSystemd

extension ProcessStateTests {
    /// The LISTEN_* cases that pass no descriptor to this process, so they run in-process
    /// without touching descriptors 3… (the real hand-over is in SocketActivationTests).
    @Suite struct ListenEnvironmentTests {
        @Test func descriptorsMeantForAnotherProcessAreNotOurs() {
            let taken = withEnvironment([
                "LISTEN_PID": String(getpid() + 1), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "varlink",
            ]) { ListenFileDescriptors.take() }
            #expect(taken.isEmpty)
        }

        @Test func notSocketActivatedMeansNoDescriptors() throws {
            let taken = try withEnvironment(["LISTEN_PID": nil, "LISTEN_FDS": nil, "LISTEN_FDNAMES": nil]) {
                try ListenFileDescriptors.takeOrThrow()
            }
            #expect(taken.isEmpty)
        }

        @Test(arguments: ["two", "-1", "1x"])
        func aMalformedCountIsAnErrorNamingIt(count: String) throws {
            let environment = ["LISTEN_PID": String(getpid()), "LISTEN_FDS": count, "LISTEN_FDNAMES": nil]
            let error = withEnvironment(environment) {
                #expect(throws: ListenFileDescriptorError.self) { try ListenFileDescriptors.takeOrThrow() }
            }
            #expect(try #require(error).description.contains("LISTEN_FDS=\(count)"))
            // take() reads the same environment as "nothing passed".
            #expect(withEnvironment(environment) { ListenFileDescriptors.take() }.isEmpty)
        }

        @Test func aMalformedProcessIdIsAnError() {
            let error = withEnvironment(["LISTEN_PID": "self", "LISTEN_FDS": "1", "LISTEN_FDNAMES": nil]) {
                #expect(throws: ListenFileDescriptorError.self) { try ListenFileDescriptors.takeOrThrow() }
            }
            #expect(error?.description.contains("LISTEN_PID=self") == true)
        }
    }
}
