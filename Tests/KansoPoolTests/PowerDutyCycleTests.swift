import KansoPool
import Testing

/// The watt cap's duty cycle (DutyCycleController inside WattCap): on a machine whose power follows
/// the duty the average settles under the cap, the duty stays in its bounds, and a release gives
/// the workers all their time back.
@Suite("Power: the watt cap's duty cycle")
struct PowerDutyCycleTests {
    /// A machine that draws `idle` W plus `work` W × the fraction of time the workers run.
    struct Machine {
        var idle: Double
        var work: Double
        func watts(duty: Double) -> Double { idle + work * duty }
    }

    /// Polls every `poll` s for `polls` polls, the power of each interval following the duty the
    /// previous verdict set; returns every verdict.
    static func run(_ cap: inout WattCap, _ machine: Machine, polls: Int, poll: Double = 5,
                    from start: Double = 0) -> [WattCapDecision] {
        var duty = 1.0
        var verdicts: [WattCapDecision] = []
        for index in 0..<polls {
            let begin = start + Double(index) * poll
            cap.record(joules: machine.watts(duty: duty) * poll, from: begin, to: begin + poll)
            guard let verdict = cap.decide(at: begin + poll) else { return verdicts }
            verdicts.append(verdict)
            duty = verdict.duty
        }
        return verdicts
    }

    @Test("with idle power the duty converges to where the machine draws the setpoint, and the average settles under the cap")
    func convergesWithIdlePower() throws {
        var cap = try WattCap(capWatts: 20, windowSeconds: 30)
        let machine = Machine(idle: 5, work: 40)  // 45 W flat out
        let verdicts = Self.run(&cap, machine, polls: 60)
        let last = try #require(verdicts.last)
        // The fixed point: idle + work × d = 0.95 × cap.
        let expected = (0.95 * 20 - 5) / 40
        #expect(abs(last.duty - expected) < 1e-3, "duty \(last.duty)")
        #expect((last.averageWatts ?? .infinity) < 20)
        #expect(last.throttles && last.pausesBackground, "a steady load stays engaged rather than flapping")
        for verdict in verdicts {
            #expect(verdict.duty >= DutyCycleController.minimumDuty && verdict.duty <= 1)
        }
        // Engaged from the first poll over the cap, and the average never climbs again after it.
        let averages = verdicts.compactMap(\.averageWatts)
        let peak = try #require(averages.firstIndex(of: averages.max()!))
        for index in averages.indices.dropFirst(peak + 1) { #expect(averages[index] <= averages[index - 1] + 1e-9) }
    }

    @Test("with the CPU-time estimate (no idle power) the duty lands on the setpoint in one step")
    func oneStepWithoutIdlePower() throws {
        var cap = try WattCap(capWatts: 10, windowSeconds: 10)
        let verdicts = Self.run(&cap, Machine(idle: 0, work: 40), polls: 3)
        #expect(verdicts.count == 3)
        for verdict in verdicts { #expect(abs(verdict.duty - 0.95 * 10 / 40) < 1e-12, "\(verdict.duty)") }
    }

    @Test("a cap the machine cannot meet holds the duty at its floor; a release gives back 1")
    func floorAndRelease() throws {
        var cap = try WattCap(capWatts: 10, windowSeconds: 10)
        let verdicts = Self.run(&cap, Machine(idle: 30, work: 20), polls: 10)
        #expect(verdicts.last?.duty == DutyCycleController.minimumDuty)
        #expect(verdicts.allSatisfy { $0.duty >= DutyCycleController.minimumDuty })
        // The load goes away: once the average falls to 90% of the cap the throttle releases.
        let quiet = Self.run(&cap, Machine(idle: 0, work: 0), polls: 3, from: 50)
        #expect(quiet.last?.duty == 1 && quiet.last?.throttles == false && quiet.last?.pausesBackground == false)
    }

    @Test("the duty steps once per measured interval, whatever the number of verdicts asked")
    func oneStepPerInterval() throws {
        var cap = try WattCap(capWatts: 10, windowSeconds: 10)
        cap.record(joules: 200, from: 0, to: 10)  // 20 W
        let decided = cap.decide(at: 10)
        let first = try #require(decided).duty
        #expect(first == 0.95 * 10 / 20)
        #expect(cap.decide(at: 10)?.duty == first)
        #expect(cap.decide(at: 10)?.duty == first)
    }

    @Test("under the cap nothing is throttled; idle intervals while engaged let the duty back up to 1")
    func underTheCap() throws {
        var cap = try WattCap(capWatts: 10, windowSeconds: 30)
        cap.record(joules: 40, from: 0, to: 5)  // 8 W
        #expect(cap.decide(at: 5)?.duty == 1)
        cap.record(joules: 150, from: 5, to: 10)  // the average rises to 19 W
        #expect((cap.decide(at: 10)?.duty ?? 1) < 1)
        cap.record(joules: 0, from: 10, to: 15)  // nothing ran; the average is still over the cap
        let decided = cap.decide(at: 15)
        let idle = try #require(decided)
        #expect(idle.pausesBackground && idle.duty == 1)
    }

    @Test("the controller alone: bounds, an unmeasured interval, no power")
    func controller() {
        var controller = DutyCycleController()
        #expect(controller.duty == 1)
        controller.step(intervalWatts: 1000, capWatts: 10)
        #expect(controller.duty == DutyCycleController.minimumDuty)
        controller.step(intervalWatts: nil, capWatts: 10)
        #expect(controller.duty == DutyCycleController.minimumDuty)
        controller.step(intervalWatts: .nan, capWatts: 10)
        #expect(controller.duty == DutyCycleController.minimumDuty)
        controller.step(intervalWatts: 0.5, capWatts: 10)  // 0.1 × 9.5 / 0.5 = 1.9: clamped
        #expect(controller.duty == 1)
        controller.step(intervalWatts: 19, capWatts: 10)
        #expect(controller.duty == 0.5)
        controller.step(intervalWatts: 0, capWatts: 10)
        #expect(controller.duty == 1)
        controller.step(intervalWatts: 19, capWatts: 10)
        controller.release()
        #expect(controller.duty == 1)
    }

    @Test("a profile's cap applies without --watt-cap; the operator's wins; a profile without one ends the cap")
    func profileCaps() throws {
        var cap = try WattCap(capWatts: nil, windowSeconds: 10)
        cap.record(joules: 300, from: 0, to: 10)  // 30 W
        #expect(cap.decide(at: 10) == nil, "no cap in force before a profile sets one")
        cap.follow(profile: .battery, capWatts: 12)
        let onBattery = cap.decide(at: 10)
        let battery = try #require(onBattery)
        #expect(battery.capWatts == 12 && battery.source == "battery profile" && battery.throttles)
        cap.follow(profile: .ac, capWatts: nil)
        #expect(cap.decide(at: 10) == nil)
        cap.follow(profile: .battery, capWatts: 12)
        #expect(cap.decide(at: 10)?.duty == 1, "a cap that ended released the throttle; it steps again on the next interval")

        var operatorCap = try WattCap(capWatts: 50, windowSeconds: 10)
        operatorCap.follow(profile: .battery, capWatts: 12)
        operatorCap.record(joules: 300, from: 0, to: 10)
        let decided = operatorCap.decide(at: 10)
        let verdict = try #require(decided)
        #expect(verdict.capWatts == 50 && verdict.source == "--watt-cap" && !verdict.throttles)
        #expect(throws: PowerConfigurationError.self) {
            try PowerProfileSettings(threadsPerWorker: 1, maximumConcurrentWorkers: 1, keepAliveScale: 1, backgroundAllowed: true,
                                     wattCapWatts: 0)
        }
    }
}
