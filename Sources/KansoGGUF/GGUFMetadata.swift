// The key/value metadata of a GGUF file, in file order, with typed accessors that accept any
// compatible stored type (an int key written as uint32 by one converter and int32 by another).

public struct GGUFMetadata: Sendable {
    /// Keys in file order.
    public let keys: [String]
    private let values: [String: GGUFValue]

    init(keys: [String], values: [String: GGUFValue]) {
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }

    public subscript(key: String) -> GGUFValue? { values[key] }

    public func string(_ key: String) -> String? {
        if case let .string(s)? = values[key] { return s }
        return nil
    }

    /// Any integer type that fits an Int.
    public func int(_ key: String) -> Int? { values[key]?.intValue }

    /// Any float or integer type.
    public func float(_ key: String) -> Double? { values[key]?.doubleValue }

    public func bool(_ key: String) -> Bool? {
        if case let .bool(b)? = values[key] { return b }
        return nil
    }

    public func array(_ key: String) -> GGUFArray? {
        if case let .array(a)? = values[key] { return a }
        return nil
    }

    /// An array of strings, each decoded now.
    public func strings(_ key: String) -> [String]? {
        stringArray(key).map(Array.init)
    }

    /// An array of strings as the file has them, each decoded when read.
    public func stringArray(_ key: String) -> GGUFStrings? {
        if case let .string(a)? = array(key) { return a }
        return nil
    }

    /// An array of any integer type.
    public func ints(_ key: String) -> [Int]? { array(key)?.intValues }

    /// An array of any float or integer type.
    public func floats(_ key: String) -> [Float]? { array(key)?.floatValues }
}
