// How a sequence's keys and values are stored and how many bytes they take: the element type,
// which layers attend through a sliding window, and how many positions each layer keeps. The
// engine allocates its caches by this layout and the supervisor's memory estimate counts by it,
// so the two cannot disagree. Sliding-window layers keep a ring of their window plus one pass's
// tokens (as llama.cpp's SWA cache keeps n_swa + n_ubatch cells): a pass writes every key of
// its tokens before the first of them attends, and that one still needs the whole window.

/// The element type of cached keys and values (llama.cpp's `type_k` / `type_v`).
public enum KVCacheType: String, Sendable, CaseIterable, Equatable {
    /// Single precision: within float rounding of exact arithmetic.
    case f32
    /// Half precision: half the bytes of f32 (llama.cpp's default), about 1e-3 of the logit range.
    case f16
    /// Blocks of 32 values as 8-bit integers with one f16 scale (34 bytes): about a quarter of f32.
    case q8_0

    /// The type a setting names ("f32", "f16", "q8_0"), or nil.
    public init?(name: String) { self.init(rawValue: name) }

    /// Values of one q8_0 block, and its bytes (an f16 scale, then 32 signed bytes).
    public static let blockLength = 32
    public static let blockBytes = 34

    /// Bytes of `count` consecutive values (a multiple of `blockLength` for q8_0).
    public func byteCount(values count: Int) -> Int {
        switch self {
        case .f32: return 4 * count
        case .f16: return 2 * count
        case .q8_0: return (count + Self.blockLength - 1) / Self.blockLength * Self.blockBytes
        }
    }

    /// Whether heads of `headDimension` values can be stored: q8_0 needs whole blocks per head,
    /// since each head's keys are read apart from the others'.
    public func stores(headDimension: Int) -> Bool {
        self != .q8_0 || headDimension % Self.blockLength == 0
    }

    /// The widest of two settings: the one that loses the least.
    public static func widest(_ a: KVCacheType, _ b: KVCacheType) -> KVCacheType {
        a.byteCount(values: 32) >= b.byteCount(values: 32) ? a : b
    }
}

public struct KVCacheLayout: Sendable, Equatable {
    public var layerCount: Int
    /// Values of one position in one layer: key heads × head dimension (values have the same).
    public var rowLength: Int
    public var type: KVCacheType
    /// Positions a sliding-window layer attends to (a query at p sees keys at p - window + 1 ... p); 0 = none.
    public var slidingWindow: Int
    /// `slidingLayers[layer]`: that layer attends through the window.
    public var slidingLayers: [Bool]
    /// Tokens one forward pass appends to a sequence at most.
    public var batchCapacity: Int

    public init(layerCount: Int, rowLength: Int, type: KVCacheType, slidingWindow: Int = 0,
                slidingLayers: [Bool]? = nil, batchCapacity: Int) {
        self.layerCount = layerCount
        self.rowLength = rowLength
        self.type = type
        self.slidingWindow = slidingWindow
        self.slidingLayers = slidingLayers ?? Array(repeating: false, count: layerCount)
        self.batchCapacity = batchCapacity
    }

    /// Bytes of one position's key (or value) row in one layer.
    public var rowBytes: Int { type.byteCount(values: rowLength) }

    /// Positions a sliding layer's ring holds: the window and one pass.
    public var ringPositions: Int { slidingWindow + batchCapacity }

    /// Positions `layer` keeps for a sequence of `positions` positions.
    public func heldPositions(layer: Int, positions: Int) -> Int {
        slidingWindow > 0 && slidingLayers[layer] ? min(positions, ringPositions) : positions
    }

    /// Key and value bytes of one sequence of `positions` positions, every layer full.
    public func byteCount(positions: Int) -> Int {
        (0..<layerCount).reduce(0) { $0 + 2 * heldPositions(layer: $1, positions: positions) * rowBytes }
    }

    /// Gemma 3's attention pattern (llama.cpp's set_swa_pattern for LLM_ARCH_GEMMA3): with
    /// `gemma3.attention.sliding_window` > 0, five of every six layers (layer % 6 < 5) attend
    /// through the window and every sixth is global. Other architectures: no window.
    public static func slidingLayers(architecture: String, metadata: GGUFMetadata,
                                     layerCount: Int) -> (window: Int, layers: [Bool]) {
        let none = (0, Array(repeating: false, count: max(0, layerCount)))
        guard architecture == "gemma3", let window = metadata.int("gemma3.attention.sliding_window"), window > 0 else {
            return none
        }
        return (window, (0..<max(0, layerCount)).map { $0 % gemma3SlidingPattern < gemma3SlidingPattern - 1 })
    }

    public static let gemma3SlidingPattern = 6
}
