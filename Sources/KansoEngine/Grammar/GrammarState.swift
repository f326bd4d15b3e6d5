// Where a partial output stands in a SchemaGrammar: a stack of frames, the top one held inline
// and the ones below in an immutable shared list, so a copy costs two words and a step within
// the top value allocates nothing. Hashable, so masks can be cached per state.

public struct GrammarState: Sendable, Hashable {
    public let grammar: SchemaGrammar
    var top: GrammarFrame
    var below: FrameStack?

    init(grammar: SchemaGrammar, top: GrammarFrame) {
        self.grammar = grammar
        self.top = top
        below = nil
    }

    /// The state after `bytes`, or nil when they cannot continue a valid output from here.
    public func advanced(by bytes: some Sequence<UInt8>) -> GrammarState? {
        var state = self
        for byte in bytes {
            guard state.advance(byte) else { return nil }
        }
        return state
    }

    /// The state after one byte, or nil.
    public func advanced(byte: UInt8) -> GrammarState? {
        var state = self
        return state.advance(byte) ? state : nil
    }

    /// Whether the output so far is a whole JSON text that validates (generation may end here).
    public var isComplete: Bool { below == nil && grammar.isComplete(top) }

    /// The bytes that may come next.
    public var allowedBytes: [UInt8] {
        (0...255).compactMap { byte in advanced(byte: UInt8(byte)) != nil ? UInt8(byte) : nil }
    }

    /// Whether nothing can follow: complete and no byte allowed (a closed object, `true`, ...).
    public var isFinished: Bool { isComplete && allowedBytes.isEmpty }

    /// Frames on the stack (1 at the top-level value).
    public var depth: Int { 1 + (below?.depth ?? 0) }

    /// Takes one byte; false when it cannot come next (the state is then unspecified).
    @inline(__always)
    mutating func advance(_ byte: UInt8) -> Bool {
        while true {
            switch grammar.step(&top, byte) {
            case .accepted:
                return true
            case .acceptedThenPush(let child):
                below = FrameStack(frame: top, next: below)
                top = child
                return true
            case .pushThenRetry(let child):
                below = FrameStack(frame: top, next: below)
                top = child
            case .replaceThenRetry(let frame):
                top = frame
            case .rejected:
                // A finished value hands the byte to its parent (a number ends at ',' or '}').
                guard let parent = below, grammar.isComplete(top) else { return false }
                top = parent.frame
                below = parent.next
            }
        }
    }

    /// The state after the string on top closes, when it may close here: the string frame popped
    /// and its parent continuing. Nil if the top is not a string's content or it cannot close.
    func closingString() -> GrammarState? {
        guard case .string(let rule) = grammar.rules[Int(top.rule)], top.phase == StringPhase.content,
              top.subState == 0, top.count >= rule.minimumLength else { return nil }
        var state = self
        state.top.phase = StringPhase.closed
        return state
    }

    public static func == (left: GrammarState, right: GrammarState) -> Bool {
        left.grammar === right.grammar && left.top == right.top && FrameStack.equal(left.below, right.below)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(ObjectIdentifier(grammar))
        hasher.combine(top)
        hasher.combine(below?.hashValue ?? 0)
    }
}

/// The frames under the top, as an immutable linked list shared between states.
final class FrameStack: Sendable, Hashable {
    let frame: GrammarFrame
    let next: FrameStack?
    let depth: Int
    private let storedHash: Int

    init(frame: GrammarFrame, next: FrameStack?) {
        self.frame = frame
        self.next = next
        depth = 1 + (next?.depth ?? 0)
        var hasher = Hasher()
        hasher.combine(frame)
        hasher.combine(next?.storedHash ?? 0)
        storedHash = hasher.finalize()
    }

    static func equal(_ left: FrameStack?, _ right: FrameStack?) -> Bool {
        var left = left, right = right
        while true {
            switch (left, right) {
            case (nil, nil): return true
            case let (a?, b?):
                if a === b { return true }
                guard a.storedHash == b.storedHash, a.frame == b.frame else { return false }
                left = a.next
                right = b.next
            default: return false
            }
        }
    }

    static func == (left: FrameStack, right: FrameStack) -> Bool { equal(left, right) }

    func hash(into hasher: inout Hasher) { hasher.combine(storedHash) }
}
