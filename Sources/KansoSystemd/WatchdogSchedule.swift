import CSystemd

/// How often the service manager expects `WATCHDOG=1`, from `WatchdogSec=` in the unit
/// (passed as `WATCHDOG_USEC`, with `WATCHDOG_PID` naming the process it is meant for).
///
/// Reference: sd_watchdog_enabled(3), which recommends pinging at half the interval so one
/// late ping never trips the watchdog.
public struct WatchdogSchedule: Sendable, Equatable {
    /// The watchdog timeout: `WatchdogSec=`.
    public let interval: Duration

    /// The keep-alive period: half the timeout.
    public var pingInterval: Duration { interval / 2 }

    public init(interval: Duration) {
        self.interval = interval
    }

    /// The schedule systemd asked for, or nil when the watchdog is off, meant for another
    /// process, or the variables are malformed. Leaves the environment as it is; worker
    /// processes get a cleaned copy (`WorkerEnvironment.clean`).
    public static func fromEnvironment() -> WatchdogSchedule? {
        var microseconds: UInt64 = 0
        guard sd_watchdog_enabled(0, &microseconds) > 0, microseconds > 0 else { return nil }
        return WatchdogSchedule(interval: .microseconds(microseconds))
    }
}
