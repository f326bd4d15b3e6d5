#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A moment on the wall clock (CLOCK_REALTIME), as seconds since 1970: the time stamps of events,
/// of a catalog's loading and of a model's last use, as status and Watch report them. For
/// durations that must not jump with clock changes the pool uses ContinuousClock instead.
public struct WallTime: Sendable, Hashable, Comparable {
    public let secondsSince1970: Double

    public init(secondsSince1970: Double) {
        self.secondsSince1970 = secondsSince1970
    }

    public static var now: WallTime {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return WallTime(secondsSince1970: Double(time.tv_sec) + Double(time.tv_nsec) / 1e9)
    }

    /// Seconds from `earlier` to this moment (negative if `earlier` is later).
    public func seconds(since earlier: WallTime) -> Double {
        secondsSince1970 - earlier.secondsSince1970
    }

    public static func < (a: WallTime, b: WallTime) -> Bool {
        a.secondsSince1970 < b.secondsSince1970
    }
}
