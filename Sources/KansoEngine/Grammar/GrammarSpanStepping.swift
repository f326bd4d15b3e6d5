// The byte step of a copied string (`"x-kanso-from-text": true`): between its quotes only bytes
// that continue a span of the bound text (TextSpanIndex: a substring that starts and ends at word
// boundaries), so the value is always whole words of the request. JSON escapes, control
// characters and quotes never occur in a span (they would need escaping; such bytes end a span
// in the text), nor does a space at either end (a value is trimmed text). With `"format": "email"` the span is also an address: letters, digits, `._%+-`
// (and any non-ASCII byte) with exactly one `@` that has something on each side, not ending in
// `.`. A byte is taken only if the span can still end well within maxLength (TextSpanIndex), so
// decoding never reaches a dead end inside a span. An unbound grammar's span takes no byte: only
// `""` (when minLength is 0).
//
// Frame use: phase as StringPhase; subState the UTF8Validator state (a span closes between
// characters); count the characters started; position the state of the rule's TextSpanIndex; flags
// `closeBlocked` (the last byte was a space, or an e-mail's `@` or `.`) and `seenAt`.

extension GrammarFrame {
    /// Span: the span may not close after the last byte taken.
    static let closeBlocked: UInt8 = 4
    /// E-mail span: its `@` was taken.
    static let seenAt: UInt8 = 8
}

extension SchemaGrammar {
    @inline(__always)
    func stepSpan(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: SpanRule) -> GrammarStep {
        switch frame.phase {
        case StringPhase.start:
            let index = spanIndex(rule)
            if rule.minimumLength > 0 {
                // minLength is 0 or 1 (the compiler checks): some non-empty span must fit, or the
                // value cannot even start (a required field can then not be written: an error).
                guard let index, (rule.isEmail ? index.shortestEmail : index.shortestPlain) <= rule.maximumLength
                else { return .rejected }
            }
            if frame.takeLeadingSpace(byte) { return .accepted }
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            frame.phase = StringPhase.content
            frame.position = index?.start ?? 0
            return .accepted
        case StringPhase.content:
            if byte == UInt8(ascii: "\"") {
                guard frame.subState == 0, frame.count >= rule.minimumLength, frame.flags & GrammarFrame.closeBlocked == 0,
                      !rule.isEmail || frame.count == 0 || frame.flags & GrammarFrame.seenAt != 0,
                      frame.count == 0 || spanIndex(rule)?.endsAtBoundary(frame.position) == true else { return .rejected }
                frame.phase = StringPhase.closed
                return .accepted
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\"), let text = spanIndex(rule) else { return .rejected }
            let startsCharacter = frame.subState == 0
            if startsCharacter {
                guard frame.count < rule.maximumLength else { return .rejected }
                if byte == 0x20 && frame.count == 0 { return .rejected }
            }
            var blocked = byte == 0x20
            var seenAt = frame.flags & GrammarFrame.seenAt != 0
            if rule.isEmail {
                guard let kind = SpanEndDistances.emailByte(byte) else { return .rejected }
                if kind == .at {
                    guard frame.count > 0, !seenAt else { return .rejected }
                    seenAt = true
                }
                blocked = kind != .other
            }
            var validator = UTF8Validator(state: frame.subState)
            guard validator.accept(byte), let next = text.child(of: frame.position, byte: byte) else { return .rejected }
            let count = frame.count + (startsCharacter ? 1 : 0)
            let needed = text.charactersNeeded(next, email: rule.isEmail, seenAt: seenAt)
            guard needed != TextSpanIndex.unreachable, Int64(count) + Int64(needed) <= Int64(rule.maximumLength) else { return .rejected }
            frame.subState = validator.state
            frame.position = next
            frame.count = count
            if blocked { frame.flags |= GrammarFrame.closeBlocked } else { frame.flags &= ~GrammarFrame.closeBlocked }
            if seenAt { frame.flags |= GrammarFrame.seenAt }
            return .accepted
        default:
            return .rejected
        }
    }

    @inline(__always)
    func spanIndex(_ rule: SpanRule) -> TextSpanIndex? { rule.isEmail ? sourceText?.addresses : sourceText?.words }
}
