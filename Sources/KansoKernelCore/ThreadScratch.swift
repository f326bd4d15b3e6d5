// Per-thread scratch memory for kernels: each thread owns one buffer that only grows, so a
// matrix multiply allocates nothing once a thread has seen its largest problem.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

final class ScratchBuffer {
    private(set) var pointer: UnsafeMutableRawPointer
    private(set) var capacity: Int

    static let alignment = 64

    init() {
        capacity = 4096
        pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: Self.alignment)
    }

    deinit { pointer.deallocate() }

    /// At least `byteCount` bytes, 64-byte aligned; earlier contents are not kept when it grows.
    func reserve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if byteCount > capacity {
            pointer.deallocate()
            capacity = max(byteCount, capacity * 2)
            pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: Self.alignment)
        }
        return pointer
    }
}

public enum ThreadScratch {
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key) { value in
            // Thread exit: release the thread's buffer.
            #if canImport(Darwin)
            Unmanaged<ScratchBuffer>.fromOpaque(value).release()
            #else
            if let value { Unmanaged<ScratchBuffer>.fromOpaque(value).release() }
            #endif
        }
        return key
    }()

    /// The calling thread's scratch buffer with at least `byteCount` bytes.
    public static func reserve(_ byteCount: Int) -> UnsafeMutableRawPointer {
        if let existing = pthread_getspecific(key) {
            return Unmanaged<ScratchBuffer>.fromOpaque(existing).takeUnretainedValue().reserve(byteCount)
        }
        let buffer = ScratchBuffer()
        pthread_setspecific(key, Unmanaged.passRetained(buffer).toOpaque())
        return buffer.reserve(byteCount)
    }

    /// Rounds a byte count up to the scratch alignment, to lay several arrays in one buffer.
    @inlinable @inline(__always)
    public static func aligned(_ byteCount: Int) -> Int {
        (byteCount + 63) & ~63  // ScratchBuffer.alignment
    }
}
