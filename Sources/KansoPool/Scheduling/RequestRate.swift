/// The recent request rate of one model, the "likelihood of reuse" input of `AdmissionPlanner`
/// (requests per hour over the last `window`).
///
/// Requests are counted in `bucketCount` buckets of window ÷ bucketCount each (default 60 of one
/// minute), in a ring: memory and time stay O(buckets) however many requests arrive, where a list
/// of request instants grows with the load. The rate is exact to one bucket's width: a request
/// leaves the count between window − bucket and window after it arrived.
public struct RequestRate: Sendable, Equatable {
    /// How far back requests count (> 0).
    public let window: Duration
    /// Buckets the window is cut into (≥ 1).
    public let bucketCount: Int
    private let bucketWidth: Duration
    private var counts: [Int]
    /// Index of the bucket that holds `origin + newestBucket × width`.
    private var newestBucket: Int64 = 0
    private let origin: ContinuousClock.Instant

    /// - Parameter origin: any instant at or before the first request (the pool's start).
    public init(window: Duration = .seconds(3600), bucketCount: Int = 60, origin: ContinuousClock.Instant) {
        let buckets = max(bucketCount, 1)
        let window = window > .zero ? window : .seconds(3600)
        self.window = window
        self.bucketCount = buckets
        self.bucketWidth = max(window / buckets, .nanoseconds(1))
        self.counts = [Int](repeating: 0, count: buckets)
        self.origin = origin
    }

    /// Counts one request at `now` (an instant before the newest one counted is counted in the
    /// newest bucket: clocks do not go back, callers may be slightly out of order).
    public mutating func record(at now: ContinuousClock.Instant) {
        advance(to: now)
        counts[Int(newestBucket % Int64(bucketCount))] += 1
    }

    /// Requests in the window ending at `now`.
    public func count(at now: ContinuousClock.Instant) -> Int {
        let current = bucket(of: now)
        let age = current - newestBucket
        guard age < Int64(bucketCount) else { return 0 }
        // Buckets older than the window (relative to `now`) no longer count.
        var total = 0
        for offset in 0..<Int64(bucketCount) - max(age, 0) {
            total += counts[Int((newestBucket - offset) % Int64(bucketCount) + Int64(bucketCount)) % bucketCount]
        }
        return total
    }

    /// Requests per hour over the window ending at `now`.
    public func requestsPerHour(at now: ContinuousClock.Instant) -> Double {
        Double(count(at: now)) * 3600 / RestartBackoff.seconds(window)
    }

    private func bucket(of instant: ContinuousClock.Instant) -> Int64 {
        let elapsed = instant - origin
        guard elapsed > .zero else { return 0 }
        // Capped far below Int64.max so the conversion cannot trap on absurd spans.
        return Int64(min(elapsed / bucketWidth, 1e15))
    }

    /// Moves the ring forward to `now`, clearing buckets that fell out of the window.
    private mutating func advance(to now: ContinuousClock.Instant) {
        let target = bucket(of: now)
        guard target > newestBucket else { return }
        let steps = min(target - newestBucket, Int64(bucketCount))
        for step in 1...steps {
            counts[Int((newestBucket + step) % Int64(bucketCount))] = 0
        }
        newestBucket = target
    }
}
