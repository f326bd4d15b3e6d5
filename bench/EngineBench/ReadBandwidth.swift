// The memory read bandwidth one or more threads get on this machine: the ceiling of generation,
// which reads every weight once per token (a 1B Q8_0 file at 24 GB/s is at most 18 tokens/s).
// Each thread sums its share of a 1 GiB buffer 64 bytes at a time; best of `runs`.
import Foundation

func measureReadBandwidth(threads: Int, runs: Int) -> Double {
    let byteCount = 1 << 30
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 64)
    defer { buffer.deallocate() }
    memset(buffer, 1, byteCount)  // touch every page before timing
    let share = byteCount / threads
    let sums = UnsafeMutablePointer<UInt32>.allocate(capacity: threads)  // read after, so the loads stay
    defer { sums.deallocate() }
    var best = 0.0
    for _ in 0..<runs {
        let start = nanoseconds()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let words = (buffer + t * share).assumingMemoryBound(to: SIMD16<UInt32>.self)
            var sum = SIMD16<UInt32>()
            for i in 0..<(share / 64) { sum &+= words[i] }
            sums[t] = sum.wrappedSum()
        }
        best = max(best, Double(byteCount) / Double(nanoseconds() - start))  // bytes/ns = GB/s
        let expected = UInt32(truncatingIfNeeded: (share / 4) &* 0x0101_0101)  // every byte is 1
        if !(0..<threads).allSatisfy({ sums[$0] == expected }) { fatalError("read-bandwidth: wrong sums") }
    }
    return best
}
