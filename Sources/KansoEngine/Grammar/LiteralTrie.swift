// A prefix tree over a fixed set of byte strings: the serialized values of an `enum`/`const`
// (and `true`, `false`, `null`), or the quoted member names of an object. A grammar frame
// matching one of them only carries the index of the node it has reached.

struct LiteralTrie: Sendable {
    /// Node 0 is the root (nothing matched yet).
    static let root: Int32 = 0

    // Edges of node n: edgeBytes/edgeTargets[firstEdge[n] ..< firstEdge[n] + edgeCount[n]].
    private var firstEdge: [Int32] = []
    private var edgeCount: [Int32] = []
    private var edgeBytes: [UInt8] = []
    private var edgeTargets: [Int32] = []
    /// The index of the string that ends at each node, or -1.
    private(set) var terminal: [Int32] = []
    /// The indices of the strings that pass through each node (its subtree), ascending.
    private(set) var reachable: [[Int32]] = []
    /// The longest string, in bytes.
    private(set) var maximumLength = 0

    /// Builds the trie of `strings`; string i is reported as index i. Duplicates keep the first.
    init(_ strings: [[UInt8]]) {
        // Build with per-node dictionaries, then flatten into sorted edge arrays.
        var children: [[UInt8: Int32]] = [[:]]
        var ends: [Int32] = [-1]
        var passing: [[Int32]] = [[]]
        for (index, string) in strings.enumerated() {
            var node = 0
            passing[0].append(Int32(index))
            for byte in string {
                if let next = children[node][byte] {
                    node = Int(next)
                } else {
                    children.append([:])
                    ends.append(-1)
                    passing.append([])
                    children[node][byte] = Int32(children.count - 1)
                    node = children.count - 1
                }
                passing[node].append(Int32(index))
            }
            if ends[node] < 0 { ends[node] = Int32(index) }
            maximumLength = max(maximumLength, string.count)
        }
        for node in children.indices {
            firstEdge.append(Int32(edgeBytes.count))
            edgeCount.append(Int32(children[node].count))
            for (byte, target) in children[node].sorted(by: { $0.key < $1.key }) {
                edgeBytes.append(byte)
                edgeTargets.append(target)
            }
        }
        terminal = ends
        reachable = passing
    }

    /// The node after `node` takes `byte`, or nil.
    @inline(__always)
    func child(of node: Int32, byte: UInt8) -> Int32? {
        let start = Int(firstEdge[Int(node)])
        let end = start + Int(edgeCount[Int(node)])
        var index = start
        while index < end {
            if edgeBytes[index] == byte { return edgeTargets[index] }
            index += 1
        }
        return nil
    }

    func isTerminal(_ node: Int32) -> Bool { terminal[Int(node)] >= 0 }

    /// Whether some string with an index in `range` passes through `node`.
    func reaches(_ node: Int32, indexIn range: ClosedRange<Int32>) -> Bool {
        let indices = reachable[Int(node)]
        // First index ≥ range.lowerBound (binary search), then compare with the upper bound.
        var low = 0, high = indices.count
        while low < high {
            let middle = (low + high) / 2
            if indices[middle] < range.lowerBound { low = middle + 1 } else { high = middle }
        }
        return low < indices.count && indices[low] <= range.upperBound
    }

    /// The bytes that can follow the root.
    var firstBytes: [UInt8] {
        let start = Int(firstEdge[0])
        return Array(edgeBytes[start..<(start + Int(edgeCount[0]))])
    }
}
