import CSystemd
import Glibc

/// Sockets passed by socket activation (`kansod.socket`): the descriptors from 3 on that
/// `LISTEN_FDS` counts, each with its `FileDescriptorName=` from `LISTEN_FDNAMES`.
///
/// Reference: sd_listen_fds(3). libsystemd checks `LISTEN_PID` against our pid, sets
/// `FD_CLOEXEC` on every passed descriptor (a worker must not inherit the listening socket),
/// fills in "unknown" for names not given, and we ask it to unset the variables so nothing
/// started later sees them.
public enum ListenFileDescriptors {
    /// The first passed descriptor (`SD_LISTEN_FDS_START`).
    public static let firstDescriptor: Int32 = 3

    /// The passed descriptors with their names, in descriptor order; empty when none were passed
    /// (not socket-activated, `LISTEN_PID` names another process) or when the variables are
    /// malformed. Takes them once: the environment variables are removed.
    public static func take() -> [(fd: Int32, name: String)] {
        (try? takeOrThrow()) ?? []
    }

    /// Like `take()`, but a malformed `LISTEN_*` environment is an error saying what libsystemd
    /// rejected, for a daemon that wants to log it.
    public static func takeOrThrow() throws -> [(fd: Int32, name: String)] {
        // Read before libsystemd unsets them, for the error message.
        let processValue = SystemdNotifier.environmentValue("LISTEN_PID")
        let countValue = SystemdNotifier.environmentValue("LISTEN_FDS")
        let namesValue = SystemdNotifier.environmentValue("LISTEN_FDNAMES")
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = nil
        let count = sd_listen_fds_with_names(1, &names)
        defer {
            if let names {
                var index = 0
                while let name = names[index] {
                    free(name)
                    index += 1
                }
                free(names)
            }
        }
        guard count >= 0 else {
            throw ListenFileDescriptorError.malformedEnvironment(
                errno: -count, listenProcess: processValue, listenFileDescriptors: countValue, names: namesValue)
        }
        var result: [(fd: Int32, name: String)] = []
        result.reserveCapacity(Int(count))
        for offset in 0..<count {
            let descriptor = firstDescriptor + offset
            let name = names.flatMap { $0[Int(offset)] }.map { String(cString: $0) } ?? "unknown"
            // libsystemd already did this; repeated so the guarantee does not rest on its version.
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
            result.append((fd: descriptor, name: name))
        }
        return result
    }
}

/// Why the socket-activation environment could not be read.
public enum ListenFileDescriptorError: Error, CustomStringConvertible, Equatable {
    /// sd_listen_fds_with_names rejected `LISTEN_FDS`/`LISTEN_PID`/`LISTEN_FDNAMES`.
    case malformedEnvironment(errno: Int32, listenProcess: String?, listenFileDescriptors: String?, names: String?)

    public var description: String {
        switch self {
        case let .malformedEnvironment(errno, process, count, names):
            let reason = String(cString: strerror(errno))
            return "ListenFileDescriptors: sd_listen_fds_with_names failed (\(reason)) for "
                + "LISTEN_PID=\(process ?? "<unset>") LISTEN_FDS=\(count ?? "<unset>") "
                + "LISTEN_FDNAMES=\(names ?? "<unset>")"
        }
    }
}
