// The byte step of a copied string (`"x-kanso-from-text": true`): between its quotes only bytes
// that continue a substring of the bound text (TextSpanIndex), so the value is always a span of
// the request. JSON escapes, control characters and quotes never occur in a span (they would
// need escaping; such bytes end a span in the text), nor does a space at either end (a value is
// trimmed text). An unbound grammar's span takes no byte: only `""` (when minLength is 0).
//
// Frame use: phase as StringPhase; subState the UTF8Validator state (a span closes between
// characters); count the characters started; position the TextSpanIndex state;
// flags bit `lastWasSpace`.

extension GrammarFrame {
    /// Span: the last byte taken was a space (the span may not close here).
    static let lastWasSpace: UInt8 = 4
}

extension SchemaGrammar {
    @inline(__always)
    func stepSpan(_ frame: inout GrammarFrame, _ byte: UInt8, _ rule: SpanRule) -> GrammarStep {
        switch frame.phase {
        case StringPhase.start:
            if frame.takeLeadingSpace(byte) { return .accepted }
            guard byte == UInt8(ascii: "\"") else { return .rejected }
            frame.phase = StringPhase.content
            frame.position = TextSpanIndex.root
            return .accepted
        case StringPhase.content:
            if byte == UInt8(ascii: "\"") {
                guard frame.subState == 0, frame.count >= rule.minimumLength,
                      frame.flags & GrammarFrame.lastWasSpace == 0 else { return .rejected }
                frame.phase = StringPhase.closed
                return .accepted
            }
            guard byte >= 0x20, byte != UInt8(ascii: "\\"), let text = sourceText else { return .rejected }
            let startsCharacter = frame.subState == 0
            if startsCharacter {
                guard frame.count < rule.maximumLength else { return .rejected }
                if byte == 0x20 && frame.count == 0 { return .rejected }
            }
            var validator = UTF8Validator(state: frame.subState)
            guard validator.accept(byte), let next = text.child(of: frame.position, byte: byte) else { return .rejected }
            frame.subState = validator.state
            frame.position = next
            if startsCharacter { frame.count += 1 }
            if byte == 0x20 { frame.flags |= GrammarFrame.lastWasSpace } else { frame.flags &= ~GrammarFrame.lastWasSpace }
            return .accepted
        default:
            return .rejected
        }
    }
}
