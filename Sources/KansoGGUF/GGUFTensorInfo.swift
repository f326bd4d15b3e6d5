// One entry of a GGUF file's tensor table, already validated against the file.

public struct GGUFTensorInfo: Sendable, Equatable {
    public let name: String
    /// ggml order: shape[0] = ne0, the contiguous dimension; a matrix is [columns, rows].
    public let shape: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the data in the file.
    public let offset: Int
    public let byteCount: Int

    public init(name: String, shape: [Int], type: GGMLType, offset: Int, byteCount: Int) {
        self.name = name
        self.shape = shape
        self.type = type
        self.offset = offset
        self.byteCount = byteCount
    }

    public var elementCount: Int { shape.reduce(1, &*) }  // overflow-checked when parsed
}
