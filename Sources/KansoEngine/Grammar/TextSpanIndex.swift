// Every substring of one text, as a suffix automaton over its UTF-8 bytes: a deterministic
// automaton whose paths from the root spell exactly the substrings, with at most 2n states for n
// bytes, built in O(n) (Blumer et al. 1985; the online construction of Crochemore and Hancart).
// A grammar frame inside a copied string (`"x-kanso-from-text": true`) carries one state
// number; a byte is allowed iff the state has an edge for it.

public struct TextSpanIndex: Sendable {
    /// The root: the empty substring.
    static let root: Int32 = 0

    /// The indexed text's bytes.
    public let bytes: [UInt8]
    // Edges of state s: edgeBytes/edgeTargets[firstEdge[s] ..< firstEdge[s + 1]], bytes ascending.
    private let firstEdge: [Int32]
    private let edgeBytes: [UInt8]
    private let edgeTargets: [Int32]

    public var stateCount: Int { firstEdge.count - 1 }

    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        // Online construction with per-state dictionaries, then flattened.
        var length: [Int32] = [0]
        var link: [Int32] = [-1]
        var next: [[UInt8: Int32]] = [[:]]
        var last: Int32 = 0
        for byte in bytes {
            let current = Int32(length.count)
            length.append(length[Int(last)] + 1)
            link.append(-1)
            next.append([:])
            var p = last
            while p >= 0 && next[Int(p)][byte] == nil {
                next[Int(p)][byte] = current
                p = link[Int(p)]
            }
            if p < 0 {
                link[Int(current)] = 0
            } else {
                let q = next[Int(p)][byte]!
                if length[Int(p)] + 1 == length[Int(q)] {
                    link[Int(current)] = q
                } else {
                    // Split q: a clone takes the shorter substrings that reach it through p.
                    let clone = Int32(length.count)
                    length.append(length[Int(p)] + 1)
                    link.append(link[Int(q)])
                    next.append(next[Int(q)])
                    while p >= 0 && next[Int(p)][byte] == q {
                        next[Int(p)][byte] = clone
                        p = link[Int(p)]
                    }
                    link[Int(q)] = clone
                    link[Int(current)] = clone
                }
            }
            last = current
        }
        var firstEdge: [Int32] = []
        var edgeBytes: [UInt8] = []
        var edgeTargets: [Int32] = []
        firstEdge.reserveCapacity(next.count + 1)
        for edges in next {
            firstEdge.append(Int32(edgeBytes.count))
            for (byte, target) in edges.sorted(by: { $0.key < $1.key }) {
                edgeBytes.append(byte)
                edgeTargets.append(target)
            }
        }
        firstEdge.append(Int32(edgeBytes.count))
        self.firstEdge = firstEdge
        self.edgeBytes = edgeBytes
        self.edgeTargets = edgeTargets
    }

    /// The state after `state` takes `byte`, or nil when no substring continues that way.
    @inline(__always)
    func child(of state: Int32, byte: UInt8) -> Int32? {
        var low = Int(firstEdge[Int(state)]), high = Int(firstEdge[Int(state) + 1])
        while low < high {
            let middle = (low + high) / 2
            let value = edgeBytes[middle]
            if value == byte { return edgeTargets[middle] }
            if value < byte { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// Whether `candidate` occurs in the text.
    public func contains(_ candidate: some Sequence<UInt8>) -> Bool {
        var state = Self.root
        for byte in candidate {
            guard let next = child(of: state, byte: byte) else { return false }
            state = next
        }
        return true
    }
}
