import KansoGGUF
import Foundation
import Testing
@testable import KansoEngine

@Suite struct KernelThreadPoolTests {
    @Test func chunksCoverTheRangeContiguously() {
        for participants in 1...5 {
            for count in 0...17 {
                var next = 0
                for index in 0..<participants {
                    let chunk = ThreadPool.chunk(index, of: participants, count: count)
                    #expect(chunk.lowerBound == next)
                    #expect(chunk.count == count / participants || chunk.count == count / participants + 1)
                    next = chunk.upperBound
                }
                #expect(next == count)
            }
        }
    }

    @Test func piecesCoverTheRangeOnWholeGrains() {
        for grain in [1, 3, 8] {
            for pieces in 1...6 {
                for count in 0...40 {
                    var next = 0
                    for index in 0..<pieces {
                        let piece = ThreadPool.piece(index, of: pieces, count: count, grain: grain)
                        #expect(piece.lowerBound == next, "grain \(grain), \(pieces) pieces of \(count)")
                        #expect(piece.lowerBound % grain == 0 || piece.isEmpty)
                        #expect(piece.upperBound % grain == 0 || piece.upperBound == count)
                        next = piece.upperBound
                    }
                    #expect(next == count)
                }
            }
        }
    }

    @Test(arguments: [2, 3])
    func claimedPiecesRunExactlyOnce(threads: Int) {
        // More pieces than threads: each thread claims several, in whatever order it gets them.
        let pool = ThreadPool(threads: threads)
        for (count, grain, pieces) in [(1001, 8, 7), (64, 8, 16), (5, 1, 50), (100, 1, 3)] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            defer { hits.deallocate() }
            for _ in 0..<200 {
                pool.parallelFor(count, grain: grain, pieces: pieces) { range in
                    #expect(range.lowerBound % grain == 0)
                    for i in range { hits[i] += 1 }
                }
            }
            #expect((0..<count).allSatisfy { hits[$0] == 200 }, "count \(count), \(pieces) pieces")
        }
    }

    @Test(arguments: [1, 2, 4])
    func everyIndexRunsExactlyOnce(threads: Int) {
        let pool = ThreadPool(threads: threads)
        #expect(pool.threadCount == threads)
        for count in [1, 2, 3, 100, 1001] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            defer { hits.deallocate() }
            for _ in 0..<20 {
                pool.parallelFor(count) { range in
                    for i in range { hits[i] += 1 }
                }
            }
            #expect((0..<count).allSatisfy { hits[$0] == 20 }, "count \(count)")
        }
    }

    @Test func manyShortSectionsInARow() {
        // Back-to-back sections exercise the spin hand-off between jobs.
        let pool = ThreadPool(threads: 3)
        let hits = UnsafeMutablePointer<Int>.allocate(capacity: 3)
        hits.initialize(repeating: 0, count: 3)
        defer { hits.deallocate() }
        for _ in 0..<5000 {
            pool.parallelFor(3) { range in
                for i in range { hits[i] += 1 }
            }
        }
        #expect((0..<3).map { hits[$0] } == [5000, 5000, 5000])
    }

    @Test func poolsAreCreatedAndDestroyedCleanly() {
        var total = 0
        for round in 0..<50 {
            let pool = ThreadPool(threads: 3)
            let slots = UnsafeMutablePointer<Int>.allocate(capacity: 3)
            slots.initialize(repeating: 0, count: 3)
            pool.parallelFor(3) { range in slots[range.lowerBound] = round }
            total += slots[0] + slots[1] + slots[2]
            slots.deallocate()
        }
        #expect(total == 3 * (0..<50).reduce(0, +))
    }

    @Test func nestedCallsRunInline() {
        let pool = ThreadPool(threads: 3)
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 9)
        total.initialize(repeating: 0, count: 9)
        defer { total.deallocate() }
        pool.parallelFor(3) { outer in
            for i in outer {
                pool.parallelFor(3) { inner in
                    for j in inner { total[i * 3 + j] += 1 }
                }
            }
        }
        #expect((0..<9).allSatisfy { total[$0] == 1 })
    }

    @Test func concurrentCallersAreSerialized() async {
        let pool = ThreadPool(threads: 2)
        await withTaskGroup(of: Int.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    let sums = UnsafeMutablePointer<Int>.allocate(capacity: 2)
                    sums.initialize(repeating: 0, count: 2)
                    defer { sums.deallocate() }
                    for _ in 0..<50 {
                        pool.parallelFor(1000) { range in
                            // Each chunk writes its own slot: chunk 0 or 1.
                            sums[range.lowerBound == 0 ? 0 : 1] += range.reduce(0, +)
                        }
                    }
                    return sums[0] + sums[1]
                }
            }
            for await total in group {
                #expect(total == 50 * (0..<1000).reduce(0, +))
            }
        }
    }

    @Test func parallelMultiplyEqualsSerial() throws {
        let file = try GGUFFile(path: quantGoldensPath)
        let matrix = try WeightMatrix(file: file, tensor: try #require(file.tensor(named: "q6_k.weights")))
        let x = KernelMultiplyTests.activation(matrix.columns, seed: 5)
        let pool = ThreadPool(threads: 3)
        var serial = [Float](repeating: 0, count: matrix.rows)
        var parallel = [Float](repeating: 0, count: matrix.rows)
        x.withUnsafeBufferPointer { xb in
            serial.withUnsafeMutableBufferPointer { matrix.multiply(xb.baseAddress!, into: $0.baseAddress!, rows: 0..<matrix.rows) }
            parallel.withUnsafeMutableBufferPointer { yb in
                let y = yb.baseAddress!
                pool.parallelFor(matrix.rows) { rows in matrix.multiply(xb.baseAddress!, into: y, rows: rows) }
            }
        }
        #expect(serial == parallel)
    }
}
