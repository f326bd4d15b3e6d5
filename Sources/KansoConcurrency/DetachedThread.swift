// A named thread that runs one closure and ends: for work that blocks (a reader on a pipe, a
// generation loop) and so must not occupy a thread of Swift's cooperative pool or of Dispatch.
// Foundation's Thread does this; the daemon does not link Foundation (see Lock.swift).

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

public enum DetachedThread {
    /// Starts a detached thread named `name` (at most 15 bytes show in /proc/PID/task/*/comm)
    /// running `body`, with a stack of `stackBytes` (nil: the system's default, 8 MiB of address
    /// space). Traps if the system cannot create a thread: nothing could continue.
    public static func start(name: String, stackBytes: Int? = nil, _ body: @escaping @Sendable () -> Void) {
        let box = Unmanaged.passRetained(Body(name: name, run: body)).toOpaque()
        var attributes = pthread_attr_t()
        pthread_attr_init(&attributes)
        defer { pthread_attr_destroy(&attributes) }
        pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        if let stackBytes { pthread_attr_setstacksize(&attributes, stackBytes) }
        var thread = pthread_t()
        let result = pthread_create(&thread, &attributes, { context in
            let body = Unmanaged<Body>.fromOpaque(context!).takeRetainedValue()
            DetachedThread.nameCurrentThread(body.name)
            body.run()
            return nil
        }, box)
        precondition(result == 0, "pthread_create failed with error \(result)")
    }

    /// Linux names a thread through /proc/thread-self/comm (pthread_setname_np writes the same
    /// file, but the Glibc module does not export it).
    fileprivate static func nameCurrentThread(_ name: String) {
        let descriptor = open("/proc/thread-self/comm", O_WRONLY)
        guard descriptor >= 0 else { return }
        let bytes = Array(name.utf8.prefix(15))
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
    }

    private final class Body {
        let name: String
        let run: @Sendable () -> Void
        init(name: String, run: @escaping @Sendable () -> Void) {
            self.name = name
            self.run = run
        }
    }
}
