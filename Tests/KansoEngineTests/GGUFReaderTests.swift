import KansoGGUF
import Foundation
import Testing
import KansoTestSupport
@testable import KansoEngine

/// The golden file written by gguf-py (scripts/make_quant_goldens.py).
let quantGoldensPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("Fixtures/quant/quant_goldens.gguf").path

@Suite struct GGUFReaderTests {
    @Test func readsEveryValueTypeWrittenByGGUFPy() throws {
        let file = try GGUFFile(path: quantGoldensPath)
        #expect(file.version == 3)
        let m = file.metadata
        #expect(m.string("general.architecture") == "goldens")
        #expect(m.string("general.name") == "quant goldens")
        #expect(m["test.uint8"] == .uint8(200))
        #expect(m["test.int8"] == .int8(-100))
        #expect(m["test.uint16"] == .uint16(60000))
        #expect(m["test.int16"] == .int16(-30000))
        #expect(m["test.uint32"] == .uint32(4_000_000_000))
        #expect(m["test.int32"] == .int32(-2_000_000_000))
        #expect(m["test.float32"] == .float32(0.25))
        #expect(m["test.bool"] == .bool(true))
        #expect(m.string("test.string") == "héllo wörld ✓")
        #expect(m["test.uint64"] == .uint64((1 << 63) + 5))
        #expect(m["test.int64"] == .int64(-(1 << 62)))
        #expect(m["test.float64"] == .float64(-1.5e300))
        #expect(m.strings("test.strings") == ["a", "", "ü", "<0x0A>"])
        #expect(m.ints("test.int32s") == [1, -2, 3])
        #expect(m.floats("test.float32s") == [0.5, -1.0, 2.0])
        #expect(m.array("test.bools") == .bool([true, false, true]))
        #expect(m.array("test.nested") == .arrays([.int32([1, 2]), .int32([3]), .int32([4, 5, 6])]))
        #expect(m.array("test.nested_strings") == .arrays([.string(["x", "y"]), .string(["z"])]))
        // Typed accessors convert across integer types; uint64 beyond Int.max is not an Int.
        #expect(m.int("test.uint32") == 4_000_000_000)
        #expect(m.int("test.uint64") == nil)
        #expect(m.float("test.int16") == -30000)
        #expect(m.string("test.int16") == nil)
        #expect(m.keys.first == "GGUF.version" || m.keys.contains("general.architecture"))
    }

    @Test func tensorTableMatchesGGUFPy() throws {
        let file = try GGUFFile(path: quantGoldensPath)
        #expect(file.tensors.count == 30)  // gguf-py counts 30 (26, then IQ4_NL and IQ4_XS appended)
        let q4k = try #require(file.tensor(named: "q4_k.weights"))
        #expect(q4k.type == .q4_K)
        #expect(q4k.shape == [512, 4])
        #expect(q4k.byteCount == 4 * 2 * 144)
        #expect(q4k.offset % file.alignment == 0)
        #expect(q4k.offset >= file.dataOffset)
        let reference = try #require(file.tensor(named: "q4_k.reference"))
        #expect(reference.type == .f32 && reference.byteCount == 512 * 4 * 4)
        #expect(file.bytes(of: reference).count == reference.byteCount)
        #expect(file.tensor(named: "missing") == nil)
        // Tensors are kept in file order.
        #expect(file.tensors.first?.name == "f32.weights")
    }

    @Test func readsSampleInVersionsTwoAndThree() throws {
        for version: UInt32 in [2, 3] {
            let path = try GGUFTestWriter.write(GGUFTestWriter.sample(version: version).build())
            defer { try? FileManager.default.removeItem(atPath: path) }
            let file = try GGUFFile(path: path)
            #expect(file.version == version)
            #expect(file.metadata.count == 16)
            #expect(file.metadata.keys.first == "general.architecture")
            #expect(file.metadata.int("a.i64") == -(1 << 40))
            #expect(file.metadata.float("a.f32") == 1.5)
            #expect(file.metadata.bool("a.bool") == true)
            #expect(file.metadata.strings("a.strings") == ["one", "two", "three"])
            let embedding = try #require(file.tensor(named: "embedding"))
            let floats = file.bytes(of: embedding).bindMemory(to: Float.self)
            #expect(Array(floats) == (0..<8).map(Float.init))
        }
    }

    @Test func honoursGeneralAlignment() throws {
        var writer = GGUFTestWriter.sample()
        writer.alignment = 64
        writer.add("general.alignment", .uint32(64))
        let path = try GGUFTestWriter.write(writer.build())
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try GGUFFile(path: path)
        #expect(file.alignment == 64)
        #expect(file.dataOffset % 64 == 0)
        let output = try #require(file.tensor(named: "output"))
        #expect(output.offset == file.dataOffset + 64)
    }

    @Test(.enabled(if: SharedData.stories260K != nil, "stories260K.gguf not found"))
    func readsStories260K() throws {
        let file = try GGUFFile(path: try #require(SharedData.stories260K).path)
        #expect(file.metadata.string("general.architecture") == "llama")
        #expect(file.metadata.strings("tokenizer.ggml.tokens")?.count == 512)
        #expect(file.tensors.allSatisfy { $0.type == .f32 })
        let embedding = try #require(file.tensor(named: "token_embd.weight"))
        #expect(embedding.shape == [64, 512])
    }

    @Test(.enabled(if: SharedData.file("vocab/ggml-vocab-llama-bpe.gguf") != nil, "Llama 3 vocab not found"))
    func readsLlama3VocabularyArrays() throws {
        // 128k token strings and 280k merges: the typed-array path on a real file
        // (values checked against gguf-py's reader).
        let file = try GGUFFile(path: try #require(SharedData.file("vocab/ggml-vocab-llama-bpe.gguf")).path)
        let tokens = try #require(file.metadata.strings("tokenizer.ggml.tokens"))
        #expect(tokens.count == 128_256)
        #expect(tokens[128_000] == "<|begin_of_text|>")
        #expect(tokens[1000] == "indow")
        let merges = try #require(file.metadata.strings("tokenizer.ggml.merges"))
        #expect(merges.count == 280_147)
        #expect(merges.first == "Ġ Ġ" && merges.last == "éĶ ¦")
        #expect(file.metadata.ints("tokenizer.ggml.token_type")?.count == 128_256)
        #expect(file.tensors.isEmpty)
    }

    // MARK: - Malformed files are typed errors

    private func parseError(_ bytes: [UInt8]) throws -> GGUFError? {
        let path = try GGUFTestWriter.write(bytes)
        defer { try? FileManager.default.removeItem(atPath: path) }
        do {
            _ = try GGUFFile(path: path)
            return nil
        } catch let error as GGUFError {
            return error
        }
    }

    @Test func rejectsWrongMagicAndVersions() throws {
        var writer = GGUFTestWriter.sample()
        writer.magic = Array("GGUG".utf8)
        guard case .notGGUF? = try parseError(writer.build()) else { Issue.record("expected notGGUF"); return }
        writer = GGUFTestWriter.sample()
        writer.version = 1
        #expect(try parseError(writer.build()) == .unsupportedVersion(1))
        writer.version = 4
        #expect(try parseError(writer.build()) == .unsupportedVersion(4))
    }

    @Test func rejectsAbsurdCounts() throws {
        var writer = GGUFTestWriter.sample()
        writer.keyCountOverride = UInt64.max
        guard case .absurdCount(let what, _, let offset)? = try parseError(writer.build()) else {
            Issue.record("expected absurdCount"); return
        }
        #expect(what == "metadata key" && offset == 16)
        writer = GGUFTestWriter.sample()
        writer.tensorCountOverride = 1 << 40
        guard case .absurdCount? = try parseError(writer.build()) else { Issue.record("expected absurdCount"); return }
        writer = GGUFTestWriter.sample()
        writer.addRaw("big.array", typeRaw: 9, payload: GGUFTestWriter.u32(8) + GGUFTestWriter.u64(1 << 50))
        guard case .absurdCount(let arrayWhat, _, _)? = try parseError(writer.build()) else {
            Issue.record("expected absurdCount"); return
        }
        #expect(arrayWhat.contains("big.array"))
    }

    @Test func rejectsBadValueTypesAndDuplicates() throws {
        var writer = GGUFTestWriter.sample()
        writer.addRaw("bad.type", typeRaw: 13, payload: [0])
        guard case .invalidValueType(13, "bad.type", _)? = try parseError(writer.build()) else {
            Issue.record("expected invalidValueType"); return
        }
        writer = GGUFTestWriter.sample()
        writer.add("a.u8", .uint8(1))
        guard case .duplicateKey("a.u8", _)? = try parseError(writer.build()) else {
            Issue.record("expected duplicateKey"); return
        }
        writer = GGUFTestWriter.sample()
        writer.addTensor("embedding", shape: [4], type: .f32, data: [UInt8](repeating: 0, count: 16))
        guard case .duplicateTensor("embedding", _)? = try parseError(writer.build()) else {
            Issue.record("expected duplicateTensor"); return
        }
    }

    @Test func rejectsDeepNesting() throws {
        var writer = GGUFTestWriter.sample()
        var array = GGUFArray.int32([1])
        for _ in 0..<20 { array = .arrays([array]) }
        writer.add("deep", .array(array))
        guard case .nestingTooDeep("deep", _)? = try parseError(writer.build()) else {
            Issue.record("expected nestingTooDeep"); return
        }
    }

    @Test func rejectsBadTensors() throws {
        var writer = GGUFTestWriter.sample()
        writer.tensors[1].typeRaw = 99
        #expect(try parseError(writer.build()) == .unknownTensorType(name: "output", raw: 99))

        writer = GGUFTestWriter.sample()
        writer.tensors[1].shape = [33, 1]  // not whole Q8_0 blocks
        guard case .invalidShape("output", _, _)? = try parseError(writer.build()) else {
            Issue.record("expected invalidShape"); return
        }
        writer = GGUFTestWriter.sample()
        writer.tensors[0].shape = [1 << 62, 1 << 62]
        guard case .invalidShape("embedding", _, _)? = try parseError(writer.build()) else {
            Issue.record("expected invalidShape for overflow"); return
        }
        writer = GGUFTestWriter.sample()
        writer.tensors[1].offsetOverride = 48  // not a multiple of 32
        #expect(try parseError(writer.build()) == .misalignedTensor(name: "output", offset: 48, alignment: 32))

        writer = GGUFTestWriter.sample()
        writer.tensors[1].offsetOverride = 1 << 20
        guard case .tensorOutOfBounds("output", _, 34, _)? = try parseError(writer.build()) else {
            Issue.record("expected tensorOutOfBounds"); return
        }
        writer = GGUFTestWriter.sample()
        writer.tensors[0].shape = [4, 2, 1, 1, 1]
        guard case .absurdCount? = try parseError(writer.build()) else { Issue.record("expected absurdCount for 5 dims"); return }
        writer = GGUFTestWriter.sample()
        writer.add("general.alignment", .uint32(24))
        #expect(try parseError(writer.build()) == .invalidAlignment(value: "24"))
    }

    @Test func reportsTruncationWithOffset() throws {
        let bytes = GGUFTestWriter.sample().build()
        // Cut inside the metadata, after the counts (which still fit the shorter file).
        let error = try parseError(Array(bytes.prefix(300)))
        guard case let .truncated(what, offset, needed, fileSize)? = error else {
            Issue.record("expected truncated, got \(String(describing: error))"); return
        }
        #expect(fileSize == 300)
        #expect(offset <= 300 && offset + needed > 300)
        #expect(what.contains("key"))
        #expect(error!.description.contains("offset \(offset)"))
        // Cut before the counts: a count that cannot fit is reported as such.
        guard case .absurdCount? = try parseError(Array(bytes.prefix(40))) else { Issue.record("expected absurdCount"); return }
        guard case .truncated(_, 0, 8, 6)? = try parseError(Array(bytes.prefix(6))) else { Issue.record("expected truncated header"); return }
    }

    @Test func missingFileIsAnError() {
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/nonexistent/model.gguf") }
        #expect(throws: GGUFError.self) { try GGUFFile(path: "/tmp") }
    }
}
