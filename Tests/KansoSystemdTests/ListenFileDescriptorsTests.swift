import Glibc
import Testing
@testable import KansoSystemd

extension ProcessStateTests {
    /// Socket activation as systemd does it: real sockets placed at descriptors 3, 4, …,
    /// with LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES in the environment.
    @Suite struct ListenFileDescriptorsTests {
        @Test func namedSocketsAreTakenInOrderWithCloseOnExec() throws {
            try withPassedSockets(count: 2) { inodes in
                let taken = withEnvironment([
                    "LISTEN_PID": String(getpid()), "LISTEN_FDS": "2", "LISTEN_FDNAMES": "varlink:admin",
                ]) {
                    let taken = ListenFileDescriptors.take()
                    // Taken once: the variables are gone for anything started later.
                    #expect(environmentValue("LISTEN_FDS") == nil)
                    #expect(environmentValue("LISTEN_PID") == nil)
                    #expect(environmentValue("LISTEN_FDNAMES") == nil)
                    return taken
                }
                #expect(taken.map(\.fd) == [3, 4])
                #expect(taken.map(\.name) == ["varlink", "admin"])
                for (index, entry) in taken.enumerated() {
                    #expect(fcntl(entry.fd, F_GETFD) & FD_CLOEXEC != 0, "fd \(entry.fd) lacks FD_CLOEXEC")
                    #expect(inode(of: entry.fd) == inodes[index], "fd \(entry.fd) is not the socket placed there")
                }
            }
        }

        @Test func missingNamesAreUnknown() throws {
            try withPassedSockets(count: 1) { _ in
                let taken = withEnvironment([
                    "LISTEN_PID": String(getpid()), "LISTEN_FDS": "1", "LISTEN_FDNAMES": nil,
                ]) { ListenFileDescriptors.take() }
                #expect(taken.map(\.fd) == [3])
                #expect(taken.map(\.name) == ["unknown"])
            }
        }

        @Test func descriptorsMeantForAnotherProcessAreIgnored() throws {
            try withPassedSockets(count: 1) { _ in
                let taken = withEnvironment([
                    "LISTEN_PID": String(getpid() + 1), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "varlink",
                ]) { ListenFileDescriptors.take() }
                #expect(taken.isEmpty)
            }
        }

        @Test func notSocketActivatedMeansNoDescriptors() {
            let taken = withEnvironment(["LISTEN_PID": nil, "LISTEN_FDS": nil, "LISTEN_FDNAMES": nil]) {
                ListenFileDescriptors.take()
            }
            #expect(taken.isEmpty)
        }

        @Test func aMalformedCountIsAnErrorNamingIt() throws {
            let error = withEnvironment(["LISTEN_PID": String(getpid()), "LISTEN_FDS": "two", "LISTEN_FDNAMES": nil]) {
                #expect(throws: ListenFileDescriptorError.self) { try ListenFileDescriptors.takeOrThrow() }
            }
            let message = try #require(error).description
            #expect(message.contains("LISTEN_FDS=two"))
            // take() turns the same environment into "nothing passed".
            let taken = withEnvironment(["LISTEN_PID": String(getpid()), "LISTEN_FDS": "two"]) {
                ListenFileDescriptors.take()
            }
            #expect(taken.isEmpty)
        }

        /// Puts `count` fresh sockets (close-on-exec cleared, as after exec) at descriptors 3…,
        /// runs `body` with their inode numbers, then closes them and puts back whatever the
        /// test process had at those numbers.
        private func withPassedSockets(count: Int, _ body: ([UInt64]) throws -> Void) throws {
            var saved: [(descriptor: Int32, copy: Int32, flags: Int32)] = []
            var inodes: [UInt64] = []
            defer {
                for offset in 0..<Int32(count) { close(3 + offset) }
                for entry in saved {
                    dup2(entry.copy, entry.descriptor)
                    _ = fcntl(entry.descriptor, F_SETFD, entry.flags)
                    close(entry.copy)
                }
            }
            for offset in 0..<Int32(count) {
                let target = 3 + offset
                let flags = fcntl(target, F_GETFD)
                if flags >= 0 {
                    let copy = fcntl(target, F_DUPFD_CLOEXEC, 64)
                    guard copy >= 0 else { throw FixtureError.system("F_DUPFD_CLOEXEC \(target)", errno) }
                    saved.append((target, copy, flags))
                }
                var pair: [Int32] = [-1, -1]
                guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
                    throw FixtureError.system("socketpair", errno)
                }
                // dup2 leaves FD_CLOEXEC clear on the target, like a descriptor inherited over exec.
                guard dup2(pair[0], target) == target else { throw FixtureError.system("dup2 \(target)", errno) }
                close(pair[0])
                close(pair[1])
                inodes.append(inode(of: target))
            }
            for offset in 0..<Int32(count) {
                #expect(fcntl(3 + offset, F_GETFD) & FD_CLOEXEC == 0)
            }
            try body(inodes)
        }

        private func inode(of descriptor: Int32) -> UInt64 {
            var status = stat()
            guard fstat(descriptor, &status) == 0 else { return 0 }
            return UInt64(status.st_ino)
        }
    }
}
