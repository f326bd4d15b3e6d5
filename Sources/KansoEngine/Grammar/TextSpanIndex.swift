// Every substring of one text, as a suffix automaton over its UTF-8 bytes: a deterministic
// automaton whose paths from the root spell exactly the substrings, with at most 2n states for n
// bytes, built in O(n) (Blumer et al. 1985; the online construction of Crochemore and Hancart).
// A grammar frame inside a copied string (`"x-kanso-from-text": true`) carries one state
// number; a byte is allowed iff the state has an edge for it and the span can still end well.
//
// "End well" is what keeps constrained decoding from dead ends: a span closes only between
// characters, not after a space (nor, for an address, after `@` or `.`), and never spans a byte
// JSON would escape. For each state the index keeps the fewest characters that extend its
// substrings to such an end (over every place they occur), so a step that could never close
// within the length limit is refused at once. All substrings of one state end at the same set
// of places (its end positions), so one number per state says it.

public struct TextSpanIndex: Sendable {
    /// The root: the empty substring.
    static let root: Int32 = 0
    /// No way to end well.
    static let unreachable = Int32.max

    /// The indexed text's bytes.
    public let bytes: [UInt8]
    // Edges of state s: edgeBytes/edgeTargets[firstEdge[s] ..< firstEdge[s + 1]], bytes ascending.
    private let firstEdge: [Int32]
    private let edgeBytes: [UInt8]
    private let edgeTargets: [Int32]
    /// Per state: the fewest characters to add for a plain span to end well. [stateCount]
    private let plainNeeded: [Int32]
    /// Per state and whether the address has its `@` (index 2s + seen): the same for an e-mail span.
    private let emailNeeded: [Int32]
    /// The shortest non-empty span (in characters) that ends well: plain, e-mail.
    let shortestPlain: Int32
    let shortestEmail: Int32

    public var stateCount: Int { firstEdge.count - 1 }

    public init(_ text: String) {
        self.init(bytes: Array(text.utf8))
    }

    public init(bytes: [UInt8]) {
        self.bytes = bytes
        // Online construction with per-state dictionaries, then flattened.
        var length: [Int32] = [0]
        var link: [Int32] = [-1]
        var isClone: [Bool] = [false]
        var next: [[UInt8: Int32]] = [[:]]
        var last: Int32 = 0
        for byte in bytes {
            let current = Int32(length.count)
            length.append(length[Int(last)] + 1)
            link.append(-1)
            isClone.append(false)
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
                    isClone.append(true)
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

        // Distances by place in the text, then the minimum over each state's end positions: a
        // state made at byte i ends at i + 1, and its end positions are those of the states
        // below it in the suffix-link tree (visited longest first, each handing its minimum up).
        let distances = SpanEndDistances(bytes)
        let order = length.indices.sorted { length[$0] > length[$1] }
        func perState(_ distance: (Int) -> Int32) -> [Int32] {
            var needed = length.indices.map { isClone[$0] || $0 == 0 ? Self.unreachable : distance(Int(length[$0])) }
            for state in order where link[state] >= 0 {
                needed[Int(link[state])] = min(needed[Int(link[state])], needed[state])
            }
            return needed
        }
        plainNeeded = perState { distances.plain[$0] }
        let withoutAt = perState { distances.email[2 * $0] }, withAt = perState { distances.email[2 * $0 + 1] }
        emailNeeded = zip(withoutAt, withAt).flatMap { [$0, $1] }
        shortestPlain = distances.shortestPlain
        shortestEmail = distances.shortestEmail
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

    /// The fewest characters that make a span in `state` (not the root) end well; `unreachable` if none.
    @inline(__always)
    func charactersNeeded(_ state: Int32, email: Bool, seenAt: Bool) -> Int32 {
        email ? emailNeeded[2 * Int(state) + (seenAt ? 1 : 0)] : plainNeeded[Int(state)]
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

/// For each place e in a text (0...n): the fewest characters a span ending at e must take from
/// text[e...] to end well, plainly and as an address (before and after its `@`).
struct SpanEndDistances {
    /// [n + 1]
    var plain: [Int32]
    /// [2 (n + 1)]: index 2e + (has its @)
    var email: [Int32]
    var shortestPlain = TextSpanIndex.unreachable
    var shortestEmail = TextSpanIndex.unreachable

    init(_ text: [UInt8]) {
        let n = text.count
        let unreachable = TextSpanIndex.unreachable
        func isBoundary(_ e: Int) -> Bool { e == n || !Self.isContinuation(text[e]) }
        func plus(_ distance: Int32, _ byte: UInt8) -> Int32 {
            distance == unreachable ? unreachable : distance + (Self.isContinuation(byte) ? 0 : 1)
        }
        plain = Array(repeating: unreachable, count: n + 1)
        email = Array(repeating: unreachable, count: 2 * (n + 1))
        for e in stride(from: n, through: 0, by: -1) {
            let previous: UInt8? = e > 0 ? text[e - 1] : nil
            let atBoundary = isBoundary(e)
            // Ending here (a span of at least one byte that ends between characters).
            if let previous, atBoundary && previous != 0x20 {
                plain[e] = 0
            } else if e < n && Self.mayBeCopied(text[e]) {
                plain[e] = plus(plain[e + 1], text[e])
            }
            for seen in [false, true] {
                let index = 2 * e + (seen ? 1 : 0)
                if let previous, seen && atBoundary && Self.emailByte(previous) == .other {
                    email[index] = 0
                } else if e < n, let kind = Self.emailByte(text[e]) {
                    if kind == .at {
                        if !seen { email[index] = plus(email[2 * (e + 1) + 1], text[e]) }
                    } else {
                        email[index] = plus(email[2 * (e + 1) + (seen ? 1 : 0)], text[e])
                    }
                }
            }
        }
        // Shortest non-empty spans: from each character start, its first byte taken.
        for p in 0..<n where !Self.isContinuation(text[p]) {
            if Self.mayBeCopied(text[p]) && text[p] != 0x20 { shortestPlain = min(shortestPlain, plus(plain[p + 1], text[p])) }
            if Self.emailByte(text[p]) == .other { shortestEmail = min(shortestEmail, plus(email[2 * (p + 1)], text[p])) }
        }
    }

    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// Bytes a copied string may hold: none that JSON escapes.
    @inline(__always)
    static func mayBeCopied(_ byte: UInt8) -> Bool { byte >= 0x20 && byte != UInt8(ascii: "\"") && byte != UInt8(ascii: "\\") }

    enum EmailByte { case at, dot, other }

    /// What a byte is in an address (letters, digits, `._%+-`, `@`, non-ASCII), or nil.
    @inline(__always)
    static func emailByte(_ byte: UInt8) -> EmailByte? {
        switch byte {
        case UInt8(ascii: "@"): return .at
        case UInt8(ascii: "."): return .dot
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"), 0x80...0xFF:
            return .other
        default: return nil
        }
    }
}
