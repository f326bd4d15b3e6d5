// The spans of one text that a copied string may be: every substring that starts and ends at a
// boundary of the text's words (not between two word bytes), as a suffix automaton. The
// automaton is built over the text with a marker byte (0x01) at every boundary, the text's start
// and end included: "Ada Lovelace." becomes ␁Ada␁ ␁Lovelace␁.␁. A span starts just after a
// marker, steps over the marker between two bytes that are not both word bytes, and may end
// where a marker follows, so "Ada", "Lovelace." and "Ada Lovelace" are spans and "Lovel" is
// not. What a word byte is depends on the field: letters, digits and non-ASCII bytes for text
// (`.words`); those and `._%+-@` for an address (`.addresses`), so an e-mail is copied whole,
// except that a dot before a space or the end (a sentence's) is not part of an address.
// The suffix automaton (Blumer et al. 1985) has at most 2n states for n bytes and is built in
// O(n); a grammar frame inside a copied string carries one state number.
//
// A span must also end well: between characters, not after a space (for an address: with its
// `@`, not after `@` or `.`), never across a byte JSON would escape. For each state the index
// keeps the fewest characters that extend its substrings to such an end (over every place they
// occur: all substrings of one state end at the same places), so a step that could never close
// within the length limit is refused at once and decoding never reaches a dead end.

public final class TextSpanIndex: Sendable {  // one reference per grammar frame step, not a copy of its arrays
    public enum Boundaries: Sendable {
        case words, addresses

        @inline(__always)
        func isWordByte(_ byte: UInt8) -> Bool {
            switch self {
            case .words: return SpanEndDistances.isAlphanumeric(byte)
            case .addresses: return SpanEndDistances.emailByte(byte) != nil
            }
        }

        /// Whether a span may start or end between text[index − 1] and text[index].
        public func isBoundary(_ text: [UInt8], _ index: Int) -> Bool {
            guard index > 0 && index < text.count && isWordByte(text[index - 1]) && isWordByte(text[index]) else { return true }
            // An address's last dot before a space or the end ends the sentence, not the address.
            return self == .addresses && text[index] == UInt8(ascii: ".") && (index + 1 == text.count || !isWordByte(text[index + 1]))
        }
    }

    static let marker: UInt8 = 0x01
    /// No way to end well.
    static let unreachable = Int32.max

    public let boundaries: Boundaries
    /// The state of the empty span (just after a marker).
    let start: Int32
    // Edges of state s: edgeBytes/edgeTargets[firstEdge[s] ..< firstEdge[s + 1]], bytes ascending.
    private let firstEdge: [Int32]
    private let edgeBytes: [UInt8]
    private let edgeTargets: [Int32]
    /// The byte every substring of state s ends with (the label of its incoming edges). [stateCount]
    private let lastByte: [UInt8]
    /// Per state: the fewest characters to add for a plain span to end well. [stateCount]
    private let plainNeeded: [Int32]
    /// Per state and whether the address has its `@` (index 2s + seen): the same for an e-mail span.
    private let emailNeeded: [Int32]
    /// The shortest non-empty span (in characters) that ends well: plain, e-mail.
    let shortestPlain: Int32
    let shortestEmail: Int32

    public var stateCount: Int { firstEdge.count - 1 }

    public convenience init(_ text: String, boundaries: Boundaries = .words) {
        self.init(bytes: Array(text.utf8), boundaries: boundaries)
    }

    public init(bytes text: [UInt8], boundaries: Boundaries = .words) {
        self.boundaries = boundaries
        // Markers are dropped from the text itself (it is the request's; a 0x01 in it could not be copied anyway).
        let plainBytes = text.map { $0 == Self.marker ? 0x20 : $0 }
        var marked: [UInt8] = [Self.marker]
        marked.reserveCapacity(2 * plainBytes.count + 2)
        for (index, byte) in plainBytes.enumerated() {
            marked.append(byte)
            if boundaries.isBoundary(plainBytes, index + 1) { marked.append(Self.marker) }
        }
        if plainBytes.isEmpty { marked.append(Self.marker) }
        let automaton = SuffixAutomaton(marked)
        var firstEdge: [Int32] = [], edgeBytes: [UInt8] = [], edgeTargets: [Int32] = []
        var lastByte = [UInt8](repeating: 0, count: automaton.next.count)
        firstEdge.reserveCapacity(automaton.next.count + 1)
        for edges in automaton.next {
            firstEdge.append(Int32(edgeBytes.count))
            for (byte, target) in edges.sorted(by: { $0.key < $1.key }) {
                edgeBytes.append(byte)
                edgeTargets.append(target)
                lastByte[Int(target)] = byte
            }
        }
        firstEdge.append(Int32(edgeBytes.count))
        self.firstEdge = firstEdge
        self.edgeBytes = edgeBytes
        self.edgeTargets = edgeTargets
        self.lastByte = lastByte
        start = automaton.next[0][Self.marker]!

        let distances = SpanEndDistances(marked)
        plainNeeded = automaton.minimumOverEndPositions { distances.plain[$0] }
        let withoutAt = automaton.minimumOverEndPositions { distances.email[2 * $0] }
        let withAt = automaton.minimumOverEndPositions { distances.email[2 * $0 + 1] }
        emailNeeded = zip(withoutAt, withAt).flatMap { [$0, $1] }
        shortestPlain = distances.shortestPlain
        shortestEmail = distances.shortestEmail
    }

    @inline(__always)
    private func edge(_ state: Int32, _ byte: UInt8) -> Int32? {
        var low = Int(firstEdge[Int(state)]), high = Int(firstEdge[Int(state) + 1])
        while low < high {
            let middle = (low + high) / 2
            let value = edgeBytes[middle]
            if value == byte { return edgeTargets[middle] }
            if value < byte { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    /// The state after a span in `state` takes `byte` (over the marker between them when they
    /// are not both word bytes), or nil when no span continues that way. Between two word bytes
    /// there may be a marker too (before an address's sentence dot): the direct way is taken
    /// when there is one, since the way over the marker only reaches a sentence's dot, after
    /// which an address can neither go on nor end.
    @inline(__always)
    func child(of state: Int32, byte: UInt8) -> Int32? {
        guard byte != Self.marker else { return nil }
        if state != start && boundaries.isWordByte(lastByte[Int(state)]) && boundaries.isWordByte(byte),
           let direct = edge(state, byte) {
            return direct
        }
        guard state != start, let afterMarker = edge(state, Self.marker) else { return state == start ? edge(state, byte) : nil }
        return edge(afterMarker, byte)
    }

    /// Whether a span in `state` may end here: a boundary follows somewhere it occurs.
    @inline(__always)
    func endsAtBoundary(_ state: Int32) -> Bool { state == start || edge(state, Self.marker) != nil }

    /// The fewest characters that make a span in `state` (not `start`) end well; `unreachable` if none.
    @inline(__always)
    func charactersNeeded(_ state: Int32, email: Bool, seenAt: Bool) -> Int32 {
        email ? emailNeeded[2 * Int(state) + (seenAt ? 1 : 0)] : plainNeeded[Int(state)]
    }

    /// Whether `candidate` is a span: it occurs in the text starting and ending at boundaries.
    public func containsSpan(_ candidate: some Sequence<UInt8>) -> Bool {
        var state = start
        for byte in candidate {
            guard let next = child(of: state, byte: byte) else { return false }
            state = next
        }
        return endsAtBoundary(state)
    }
}

/// The suffix automaton of a byte string (online construction, Crochemore and Hancart).
struct SuffixAutomaton {
    var length: [Int32] = [0]
    var link: [Int32] = [-1]
    var isClone: [Bool] = [false]
    var next: [[UInt8: Int32]] = [[:]]

    init(_ bytes: [UInt8]) {
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
    }

    /// For each state, the minimum of `value(e)` over its end positions e: a state made at byte i
    /// ends at i + 1, and its end positions are those of the states below it in the suffix-link
    /// tree (visited longest first, each handing its minimum up). The root's is left unreachable.
    func minimumOverEndPositions(_ value: (Int) -> Int32) -> [Int32] {
        var result = length.indices.map { isClone[$0] || $0 == 0 ? TextSpanIndex.unreachable : value(Int(length[$0])) }
        for state in length.indices.sorted(by: { length[$0] > length[$1] }) where link[state] > 0 {
            result[Int(link[state])] = min(result[Int(link[state])], result[state])
        }
        return result
    }
}

/// For each place e in a marked text (0...n): the fewest characters a span ending at e must take
/// from the text after e to end well (at a marker), plainly and as an address (before and after
/// its `@`). Markers cost nothing and are always crossed.
struct SpanEndDistances {
    /// [n + 1]
    var plain: [Int32]
    /// [2 (n + 1)]: index 2e + (has its @)
    var email: [Int32]
    var shortestPlain = TextSpanIndex.unreachable
    var shortestEmail = TextSpanIndex.unreachable

    init(_ marked: [UInt8]) {
        let n = marked.count
        let unreachable = TextSpanIndex.unreachable
        let marker = TextSpanIndex.marker
        func plus(_ distance: Int32, _ byte: UInt8) -> Int32 {
            distance == unreachable ? unreachable : distance + (byte == marker || Self.isContinuation(byte) ? 0 : 1)
        }
        plain = Array(repeating: unreachable, count: n + 1)
        email = Array(repeating: unreachable, count: 2 * (n + 1))
        for e in stride(from: n - 1, through: 0, by: -1) {
            let byte = marked[e]
            // The span's last byte (the one before e), when e is just after a real byte.
            let previous: UInt8? = e > 0 && marked[e - 1] != marker ? marked[e - 1] : nil
            // Ending here: a marker follows (a boundary; markers never split a character).
            if byte == marker, let previous, previous != 0x20 {
                plain[e] = 0
            } else if byte == marker || Self.mayBeCopied(byte) {
                plain[e] = plus(plain[e + 1], byte)
            }
            for seen in [false, true] {
                let index = 2 * e + (seen ? 1 : 0)
                if byte == marker, seen, let previous, Self.emailByte(previous) == .other {
                    email[index] = 0
                } else if byte == marker {
                    email[index] = email[2 * (e + 1) + (seen ? 1 : 0)]
                } else if let kind = Self.emailByte(byte) {
                    if kind == .at {
                        if !seen { email[index] = plus(email[2 * (e + 1) + 1], byte) }
                    } else {
                        email[index] = plus(email[2 * (e + 1) + (seen ? 1 : 0)], byte)
                    }
                }
            }
        }
        // Shortest non-empty spans: from each start (just after a marker), its first byte taken.
        for p in 1..<max(n, 1) where marked[p - 1] == marker && marked[p] != marker && !Self.isContinuation(marked[p]) {
            if Self.mayBeCopied(marked[p]) && marked[p] != 0x20 { shortestPlain = min(shortestPlain, plus(plain[p + 1], marked[p])) }
            if Self.emailByte(marked[p]) == .other { shortestEmail = min(shortestEmail, plus(email[2 * (p + 1)], marked[p])) }
        }
    }

    static func isContinuation(_ byte: UInt8) -> Bool { byte & 0xC0 == 0x80 }

    /// Letters, digits and any byte of a non-ASCII character.
    @inline(__always)
    static func isAlphanumeric(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"), 0x80...0xFF:
            return true
        default: return false
        }
    }

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
        case UInt8(ascii: "_"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: "-"): return .other
        default: return isAlphanumeric(byte) ? .other : nil
        }
    }
}
