import KansoGGUF
import Foundation
import KansoTestSupport
import Testing
@testable import KansoEngine

/// Truncated and corrupted files must parse or throw a GGUFError, never crash. A crash fails
/// the whole test process, so every case running to completion is the assertion; the counts
/// check that both outcomes were actually exercised. Each test writes its own uniquely named
/// file: another test process on the machine rewriting a file this one has mapped is a SIGBUS.
@Suite struct GGUFFuzzTests {
    /// Parses `bytes` from a file; returns true when it parsed, false for a GGUFError.
    private func parses(_ bytes: [UInt8], path: String) throws -> Bool {
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        do {
            let file = try GGUFFile(path: path)
            // Touch every tensor's bytes: they must lie inside the mapping.
            var checksum: UInt8 = 0
            for tensor in file.tensors {
                let bytes = file.bytes(of: tensor)
                #expect(bytes.count == tensor.byteCount)
                if let last = bytes.last { checksum ^= last }
                if tensor.type.isSupported, tensor.shape.count <= 2,
                   let matrix = try? WeightMatrix(file: file, tensor: tensor), matrix.rows > 0 {
                    let row = [Float](unsafeUninitializedCapacity: matrix.columns) { buffer, count in
                        matrix.row(matrix.rows - 1, into: buffer.baseAddress!)
                        count = matrix.columns
                    }
                    _ = row
                }
            }
            _ = checksum
            return true
        } catch is GGUFError {
            return false
        }
    }

    @Test func everyTruncationOfTheSampleThrows() throws {
        let bytes = GGUFTestWriter.sample().build()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-fuzz-truncate-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try parses(bytes, path: path))
        for length in 0..<bytes.count {
            // Shorter than the last tensor's end: always an error.
            #expect(try !parses(Array(bytes.prefix(length)), path: path), "length \(length)")
        }
    }

    @Test func flippedBytesParseOrThrow() throws {
        let bytes = GGUFTestWriter.sample().build()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-fuzz-flip-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var parsed = 0, rejected = 0
        for position in 0..<bytes.count {
            for pattern: UInt8 in [0x01, 0x80, 0xFF] {
                var corrupted = bytes
                corrupted[position] ^= pattern
                if try parses(corrupted, path: path) { parsed += 1 } else { rejected += 1 }
            }
        }
        #expect(parsed > 0 && rejected > 0)
    }

    @Test func randomCorruptionOfTheGoldenFile() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: quantGoldensPath)))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kanso-fuzz-golden-\(UUID().uuidString).gguf").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        var generator = SplitMix64(seed: 42)
        let headerEnd = try GGUFFile(path: quantGoldensPath).dataOffset
        var rejected = 0
        for _ in 0..<300 {
            var corrupted = bytes
            // Corrupt the header region, where structure lives; 1-4 random bytes each.
            for _ in 0..<(1 + Int(generator.next() % 4)) {
                corrupted[Int(generator.next() % UInt64(headerEnd))] = UInt8(truncatingIfNeeded: generator.next())
            }
            if try !parses(corrupted, path: path) { rejected += 1 }
        }
        for _ in 0..<100 {
            let length = Int(generator.next() % UInt64(bytes.count))
            if try !parses(Array(bytes.prefix(length)), path: path) { rejected += 1 }
        }
        #expect(rejected >= 100)
    }
}
