// The byte step of each rule kind on its frame (the pushdown matcher's transition function), and
// when a frame may end. Every accepted byte leaves a frame from which some valid end is reachable.

extension SchemaGrammar {
    @inline(__always)
    func step(_ frame: inout GrammarFrame, _ byte: UInt8) -> GrammarStep {
        switch rules[Int(frame.rule)] {
        case .string(let rule): return stepString(&frame, byte, rule)
        case .span(let rule): return stepSpan(&frame, byte, rule)
        case .literals(let trie): return stepLiteral(&frame, byte, trie)
        case .number(let rule): return stepNumber(&frame, byte, rule)
        case .object(let rule): return stepObject(&frame, byte, rule)
        case .array(let rule): return stepArray(&frame, byte, rule)
        case .choice(let rule):
            if frame.takeLeadingSpace(byte) { return .accepted }
            let alternative = rule.ruleForFirstByte[Int(byte)]
            guard alternative >= 0 else { return .rejected }
            return .replaceThenRetry(GrammarFrame(rule: alternative, allowsLeadingSpace: false))
        }
    }

    /// Whether the value of this frame may end here.
    func isComplete(_ frame: GrammarFrame) -> Bool {
        switch rules[Int(frame.rule)] {
        case .string, .span: return frame.phase == StringPhase.closed
        case .literals(let trie): return frame.phase == LiteralPhase.matching && trie.isTerminal(frame.position)
        case .object: return frame.phase == ObjectPhase.closed
        case .array: return frame.phase == ArrayPhase.closed
        case .choice: return false
        case .number(let rule):
            let negative = frame.flags & GrammarFrame.negative != 0
            switch frame.phase {
            case NumberPhase.integerDigits:
                return rule.accepts(negative: negative, integer: frame.value, fraction: 0, fractionCount: 0)
            case NumberPhase.fractionDigits:
                return rule.accepts(negative: negative, integer: frame.value, fraction: Int64(frame.position),
                                    fractionCount: Int(frame.extra))
            default: return false
            }
        }
    }

    @inline(__always)
    private func stepString(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: StringRule) -> GrammarStep {
        switch frame.phase {
        case StringPhase.start:
            if frame.takeLeadingSpace(byte) { return .accepted }
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            frame.phase = StringPhase.content
            return .accepted
        case StringPhase.content:
            if frame.subState == 0 && byte == UInt8(ascii: "\"") {
                guard frame.count >= rule.minimumLength else { return .rejected }
                frame.phase = StringPhase.closed
                return .accepted
            }
            guard let next = StringContent.step(subState: frame.subState, byte: byte) else { return .rejected }
            if next.startsCharacter {
                guard frame.count < rule.maximumLength else { return .rejected }
                frame.count += 1
            }
            frame.subState = next.subState
            return .accepted
        default:
            return .rejected
        }
    }

    @inline(__always)
    private func stepLiteral(_ frame: inout GrammarFrame, _ byte: UInt8, _ trie: LiteralTrie) -> GrammarStep {
        if frame.phase == LiteralPhase.start {
            if frame.takeLeadingSpace(byte) { return .accepted }
            frame.phase = LiteralPhase.matching
            frame.position = LiteralTrie.root
        }
        guard let next = trie.child(of: frame.position, byte: byte) else { return .rejected }
        frame.position = next
        return .accepted
    }

    private func stepNumber(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: NumberRule) -> GrammarStep {
        let isDigit = byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        let digit = Int64(byte &- UInt8(ascii: "0"))
        let negative = frame.flags & GrammarFrame.negative != 0
        switch frame.phase {
        case NumberPhase.start where byte == UInt8(ascii: "-"):
            guard rule.canStart(negative: true) else { return .rejected }
            frame.flags = (frame.flags & ~GrammarFrame.spaceAllowed) | GrammarFrame.negative
            frame.phase = NumberPhase.afterMinus
            return .accepted
        case NumberPhase.start, NumberPhase.afterMinus:
            if frame.phase == NumberPhase.start && frame.takeLeadingSpace(byte) { return .accepted }
            guard isDigit, rule.canReach(negative: negative, integerPrefix: digit, digitCount: 1) else { return .rejected }
            frame.flags &= ~GrammarFrame.spaceAllowed
            frame.phase = NumberPhase.integerDigits
            frame.value = digit
            frame.count = 1
            return .accepted
        case NumberPhase.integerDigits:
            if isDigit {
                // No digit after a leading zero.
                guard frame.value != 0 else { return .rejected }
                let prefix = frame.value * 10 + digit
                guard Int(frame.count) < rule.maximumIntegerDigits,
                      rule.canReach(negative: negative, integerPrefix: prefix, digitCount: Int(frame.count) + 1)
                else { return .rejected }
                frame.value = prefix
                frame.count += 1
                return .accepted
            }
            guard byte == UInt8(ascii: "."), rule.fractionDigits > 0,
                  rule.canReach(negative: negative, integer: frame.value, fraction: 0, fractionCount: 0)
            else { return .rejected }
            frame.phase = NumberPhase.afterPoint
            return .accepted
        case NumberPhase.afterPoint, NumberPhase.fractionDigits:
            guard isDigit else { return .rejected }
            let fraction = Int64(frame.position) * 10 + digit
            let fractionCount = Int(frame.extra) + 1
            guard rule.canReach(negative: negative, integer: frame.value, fraction: fraction, fractionCount: fractionCount)
            else { return .rejected }
            frame.position = Int32(fraction)
            frame.extra = Int32(fractionCount)
            frame.phase = NumberPhase.fractionDigits
            return .accepted
        default:
            return .rejected
        }
    }

    private func stepObject(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: ObjectRule) -> GrammarStep {
        let next = Int(frame.count)
        let propertyCount = rule.properties.count
        switch frame.phase {
        case ObjectPhase.start:
            if frame.takeLeadingSpace(byte) { return .accepted }
            guard byte == UInt8(ascii: "{") else { return .rejected }
            frame.phase = ObjectPhase.afterOpen
            return .accepted
        case ObjectPhase.afterOpen, ObjectPhase.afterOpenSpace:
            if byte == UInt8(ascii: "}") && rule.canClose[next] {
                frame.phase = ObjectPhase.closed
                return .accepted
            }
            if byte == 0x20 && frame.phase == ObjectPhase.afterOpen {
                frame.phase = ObjectPhase.afterOpenSpace
                return .accepted
            }
            return startKey(&frame, byte, rule)
        case ObjectPhase.afterComma, ObjectPhase.afterCommaSpace:
            if byte == 0x20 && frame.phase == ObjectPhase.afterComma {
                frame.phase = ObjectPhase.afterCommaSpace
                return .accepted
            }
            return startKey(&frame, byte, rule)
        case ObjectPhase.inKey:
            guard let node = rule.keys.child(of: frame.position, byte: byte),
                  rule.keys.reaches(node, indexIn: frame.count...rule.lastCandidate[next]) else { return .rejected }
            frame.position = node
            let property = rule.keys.terminal[Int(node)]
            if property >= 0 {
                // Member names are quoted, so no name is a prefix of another: the key is complete.
                frame.count = property
                frame.phase = ObjectPhase.afterKey
            }
            return .accepted
        case ObjectPhase.afterKey:
            guard byte == UInt8(ascii: ":") else { return .rejected }
            let property = rule.properties[next]
            frame.count = Int32(next + 1)
            frame.phase = ObjectPhase.afterValue
            return .acceptedThenPush(GrammarFrame(rule: property.valueRule, allowsLeadingSpace: true))
        case ObjectPhase.afterValue, ObjectPhase.afterValueSpace:
            if byte == UInt8(ascii: "}") && rule.canClose[next] {
                frame.phase = ObjectPhase.closed
                return .accepted
            }
            guard frame.phase == ObjectPhase.afterValue else { return .rejected }
            if byte == UInt8(ascii: ",") && next < propertyCount {
                frame.phase = ObjectPhase.afterComma
                return .accepted
            }
            if byte == 0x20 && rule.canClose[next] {
                frame.phase = ObjectPhase.afterValueSpace
                return .accepted
            }
            return .rejected
        default:
            return .rejected
        }
    }

    private func startKey(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: ObjectRule) -> GrammarStep {
        let next = Int(frame.count)
        guard next < rule.properties.count, byte == UInt8(ascii: "\""),
              let node = rule.keys.child(of: LiteralTrie.root, byte: byte),
              rule.keys.reaches(node, indexIn: frame.count...rule.lastCandidate[next]) else { return .rejected }
        frame.position = node
        frame.phase = ObjectPhase.inKey
        return .accepted
    }

    private func stepArray(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: ArrayRule) -> GrammarStep {
        switch frame.phase {
        case ArrayPhase.start:
            if frame.takeLeadingSpace(byte) { return .accepted }
            guard byte == UInt8(ascii: "[") else { return .rejected }
            frame.phase = ArrayPhase.afterOpen
            return .accepted
        case ArrayPhase.afterOpen, ArrayPhase.afterComma:
            if frame.phase == ArrayPhase.afterOpen && byte == UInt8(ascii: "]") && rule.minimumItems == 0 {
                frame.phase = ArrayPhase.closed
                return .accepted
            }
            guard frame.count < rule.maximumItems else { return .rejected }
            frame.count += 1
            frame.phase = ArrayPhase.afterItem
            // The item's own leading space is the one allowed after '[' and ','.
            return .pushThenRetry(GrammarFrame(rule: rule.itemRule, allowsLeadingSpace: true))
        case ArrayPhase.afterItem, ArrayPhase.afterItemSpace:
            if byte == UInt8(ascii: "]") && frame.count >= rule.minimumItems {
                frame.phase = ArrayPhase.closed
                return .accepted
            }
            guard frame.phase == ArrayPhase.afterItem else { return .rejected }
            if byte == UInt8(ascii: ",") && frame.count < rule.maximumItems {
                frame.phase = ArrayPhase.afterComma
                return .accepted
            }
            if byte == 0x20 && frame.count >= rule.minimumItems {
                frame.phase = ArrayPhase.afterItemSpace
                return .accepted
            }
            return .rejected
        default:
            return .rejected
        }
    }
}
