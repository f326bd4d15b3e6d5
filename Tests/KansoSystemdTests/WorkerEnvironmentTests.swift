import Testing
@testable import KansoSystemd

@Suite struct WorkerEnvironmentTests {
    @Test func supervisorOnlyVariablesAreRemovedAndTheRestKept() {
        let supervisor = [
            "NOTIFY_SOCKET": "/run/systemd/notify",
            "WATCHDOG_USEC": "30000000",
            "WATCHDOG_PID": "100",
            "LISTEN_PID": "100",
            "LISTEN_FDS": "1",
            "LISTEN_FDNAMES": "varlink",
            "PATH": "/usr/bin:/bin",
            "JOURNAL_STREAM": "8:1234",
            "STATE_DIRECTORY": "/var/lib/kanso",
            "INVOCATION_ID": "abc",
            "NOTIFY_SOCKET_EXTRA": "kept: not the systemd variable",
        ]
        #expect(WorkerEnvironment.clean(supervisor) == [
            "PATH": "/usr/bin:/bin",
            "JOURNAL_STREAM": "8:1234",
            "STATE_DIRECTORY": "/var/lib/kanso",
            "INVOCATION_ID": "abc",
            "NOTIFY_SOCKET_EXTRA": "kept: not the systemd variable",
        ])
    }

    @Test func anEmptyEnvironmentStaysEmpty() {
        #expect(WorkerEnvironment.clean([:]).isEmpty)
    }

    @Test(arguments: ["WATCHDOG_FUTURE", "LISTEN_SOMETHING_NEW"])
    func laterMembersOfTheFamiliesAreRemovedToo(name: String) {
        #expect(WorkerEnvironment.isSupervisorOnly(name))
        #expect(WorkerEnvironment.clean([name: "1"]).isEmpty)
    }
}
