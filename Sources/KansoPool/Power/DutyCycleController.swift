/// The fraction of each throttle period the workers may run while the watt cap is engaged
/// (WattCap): a proportional controller on the power of the newest measured interval.
///
/// At each power poll, while engaged:
///
///     duty ← clamp(duty × setpoint ÷ intervalWatts, minimumDuty, 1),   setpoint = cap × setpointFraction
///
/// The interval was measured while the previous duty held, so the step scales that duty by how far
/// its power was from the setpoint. Power is roughly idle + duty × work, so the step undershoots by
/// the idle share and converges without oscillating (at the fixed point the slope is idle ÷
/// setpoint < 1); with the CPU-time estimate (no idle part) it lands in one step. It steps on the
/// newest interval, not on the window's average: the average lags by up to a window, and stepping
/// on it would wind the duty down to the floor long after the power fell, then overshoot back.
/// The setpoint sits a little under the cap so that the window's average settles under it, and
/// above the release threshold (cap × WattCap.resumeFraction) so that a steady load stays engaged
/// instead of flapping. Released, the duty is 1 again.
public struct DutyCycleController: Sendable, Equatable {
    /// The lowest duty: workers run at least this fraction of each period, so a throttled
    /// generation still advances (and still uses CPU time, which the stall watch looks for) even
    /// when the cap cannot be met (the machine idles above it, or other programs draw the power).
    public static let minimumDuty = 0.1
    /// The setpoint as a fraction of the cap.
    public static let setpointFraction = 0.95

    /// The fraction of each period the workers run, in minimumDuty...1; 1 when not throttling.
    public private(set) var duty = 1.0

    public init() {}

    /// One step while the cap is engaged, given the power of the newest interval, W (nil: not
    /// measured, the duty stays). No power at all (idle workers) lets the duty back up to 1.
    public mutating func step(intervalWatts: Double?, capWatts: Double) {
        guard let intervalWatts, intervalWatts.isFinite, intervalWatts >= 0 else { return }
        guard intervalWatts > 0 else {
            duty = 1
            return
        }
        let proposed = duty * capWatts * Self.setpointFraction / intervalWatts
        duty = min(1, max(Self.minimumDuty, proposed.isFinite ? proposed : 1))
    }

    /// The cap released: the workers run freely.
    public mutating func release() {
        duty = 1
    }
}
