@testable import KansoPool
import KansoTestSupport
import Testing

@Suite("Scheduling: recent request rate")
struct SchedulingRequestRateTests {
    let origin = ContinuousClock.now

    @Test("counts requests in the last hour and reports them per hour")
    func hourly() {
        var rate = RequestRate(origin: origin)
        for second in stride(from: 0, to: 600, by: 10) { rate.record(at: origin + .seconds(second)) }  // 60 requests in 10 minutes
        #expect(rate.count(at: origin + .seconds(600)) == 60)
        #expect(rate.requestsPerHour(at: origin + .seconds(600)) == 60)
        // An hour after the last of them, all are gone; halfway through they have not.
        #expect(rate.count(at: origin + .seconds(1800)) == 60)
        #expect(rate.count(at: origin + .seconds(600 + 3600)) == 0)
        #expect(rate.requestsPerHour(at: origin + .seconds(100_000)) == 0)
    }

    @Test("old requests leave within one bucket of the window's end")
    func sliding() {
        var rate = RequestRate(window: .seconds(60), bucketCount: 6, origin: origin)  // 10-second buckets
        rate.record(at: origin + .seconds(1))
        rate.record(at: origin + .seconds(25))
        rate.record(at: origin + .seconds(59))
        #expect(rate.count(at: origin + .seconds(59)) == 3)
        #expect(rate.count(at: origin + .seconds(65)) == 2, "the request at 1 s (bucket 0) is out once bucket 6 begins")
        #expect(rate.count(at: origin + .seconds(85)) == 1)
        #expect(rate.count(at: origin + .seconds(125)) == 0)
        #expect(rate.requestsPerHour(at: origin + .seconds(59)) == 3 * 60)
        // Recording later reuses the ring: cleared buckets do not bring old counts back.
        rate.record(at: origin + .seconds(200))
        #expect(rate.count(at: origin + .seconds(200)) == 1)
        rate.record(at: origin + .seconds(205))
        rate.record(at: origin + .seconds(232))
        #expect(rate.count(at: origin + .seconds(239)) == 3)
        #expect(rate.count(at: origin + .seconds(265)) == 1)
    }

    @Test("agrees with a list of instants, to one bucket", arguments: [5, 6])
    func againstList(seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        var rate = RequestRate(window: .seconds(600), bucketCount: 60, origin: origin)
        var instants: [Double] = []
        var time = 0.0
        for _ in 0..<1500 {
            time += Double.random(in: 0...3, using: &generator)
            rate.record(at: origin + .seconds(time))
            instants.append(time)
            let query = time + Double.random(in: 0...700, using: &generator)
            let counted = rate.count(at: origin + .seconds(query))
            // Exact lower and upper bounds: everything within window − bucket counts, nothing older than window.
            let surely = instants.filter { query - $0 < 590 }.count
            let possibly = instants.filter { query - $0 < 600 }.count
            #expect(counted >= surely && counted <= possibly, "at \(query): \(counted) not in \(surely)...\(possibly)")
        }
    }

    @Test("out-of-order and absurd inputs do not trap")
    func robustness() {
        var rate = RequestRate(window: .zero, bucketCount: 0, origin: origin)
        #expect(rate.window == .seconds(3600) && rate.bucketCount == 1)
        rate.record(at: origin - .seconds(5))
        rate.record(at: origin + .seconds(10))
        rate.record(at: origin + .seconds(5))
        #expect(rate.count(at: origin + .seconds(10)) == 3)
        var tiny = RequestRate(window: .nanoseconds(1), bucketCount: 1000, origin: origin)
        tiny.record(at: origin + .seconds(1_000_000_000))
        #expect(tiny.count(at: origin + .seconds(1_000_000_000)) == 1)
    }
}
