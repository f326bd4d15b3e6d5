import Glibc
import Testing
@testable import KansoSystemd

extension ProcessStateTests {
    /// `WatchdogSec=` as systemd passes it: WATCHDOG_USEC, and WATCHDOG_PID naming the process.
    @Suite struct WatchdogScheduleTests {
        @Test func thirtySecondsForThisProcessPingsEveryFifteen() throws {
            let schedule = withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": String(getpid())]) {
                WatchdogSchedule.fromEnvironment()
            }
            let found = try #require(schedule)
            #expect(found.interval == .seconds(30))
            #expect(found.pingInterval == .seconds(15))
        }

        @Test func withoutAProcessIdTheIntervalStillApplies() throws {
            let schedule = withEnvironment(["WATCHDOG_USEC": "500000", "WATCHDOG_PID": nil]) {
                WatchdogSchedule.fromEnvironment()
            }
            #expect(schedule?.interval == .milliseconds(500))
            #expect(schedule?.pingInterval == .milliseconds(250))
        }

        @Test func aWatchdogForAnotherProcessIsNotOurs() {
            let schedule = withEnvironment(["WATCHDOG_USEC": "30000000", "WATCHDOG_PID": String(getpid() + 1)]) {
                WatchdogSchedule.fromEnvironment()
            }
            #expect(schedule == nil)
        }

        @Test(arguments: [nil, "0", "thirty", "-5"] as [String?])
        func absentZeroOrMalformedMeansNoWatchdog(value: String?) {
            let schedule = withEnvironment(["WATCHDOG_USEC": value, "WATCHDOG_PID": String(getpid())]) {
                WatchdogSchedule.fromEnvironment()
            }
            #expect(schedule == nil)
        }

        @Test func theEnvironmentIsLeftInPlace() {
            withEnvironment(["WATCHDOG_USEC": "2000000", "WATCHDOG_PID": String(getpid())]) {
                _ = WatchdogSchedule.fromEnvironment()
                #expect(environmentValue("WATCHDOG_USEC") == "2000000")
                #expect(environmentValue("WATCHDOG_PID") == String(getpid()))
            }
        }
    }
}
