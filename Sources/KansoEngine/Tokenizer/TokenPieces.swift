// The bytes each token stands for, computed once per vocabulary (llama.cpp token_to_piece with
// special tokens rendered): SentencePiece tokens with U+2581 read as spaces and `<0xNN>` byte
// tokens as their byte; byte-level BPE tokens through the GPT-2 byte map; control, unknown and
// user-defined tokens as their text. Unused and undefined tokens stand for nothing.

struct TokenPieces: Sendable {
    /// Every token's bytes, back to back; token `id` is `storage[offsets[id] ..< offsets[id + 1]]`.
    private var storage: [UInt8] = []
    private var offsets: [Int] = [0]

    init(model: TokenizerModelKind, tokenTexts: ByteStringTable, types: [TokenType]) {
        storage.reserveCapacity(tokenTexts.storage.count)
        offsets.reserveCapacity(types.count + 1)
        for (index, type) in types.enumerated() {
            let id = Int32(index)
            let text = tokenTexts.bytes(of: id)
            switch type {
            case .control, .unknown, .userDefined:
                storage.append(contentsOf: text)
            case .byte:
                if let byte = Self.byteValue(text) {
                    storage.append(byte)
                } else {
                    storage.append(contentsOf: text)
                }
            case .normal:
                switch model {
                case .sentencePiece, .wordPiece, .gemma4:
                    // GGUF WordPiece vocabularies spell a word start as U+2581, not "##".
                    Self.appendUnescaped(text, to: &storage)
                case .bytePair:
                    ByteLevelMapping.decode(text, into: &storage)
                }
            case .unused, .undefined:
                break
            }
            offsets.append(storage.count)
        }
    }

    var count: Int { offsets.count - 1 }

    /// The arrays as they are, for the tokenizer cache (TokenizerCacheFile.swift).
    var parts: Parts { Parts(storage: storage, offsets: offsets) }

    struct Parts: Equatable {
        var storage: [UInt8]
        var offsets: [Int]
    }

    /// The pieces of `count` tokens stored as `parts`, or nil unless offsets rise from 0 to the
    /// end of storage.
    init?(parts: Parts, count: Int) {
        guard parts.offsets.count == count + 1, parts.offsets[0] == 0, parts.offsets[count] == parts.storage.count else { return nil }
        for index in 0 ..< count where parts.offsets[index] > parts.offsets[index + 1] { return nil }
        storage = parts.storage
        offsets = parts.offsets
    }

    func bytes(of token: Int32) -> ArraySlice<UInt8> {
        guard token >= 0, Int(token) < count else { return [] }
        return storage[offsets[Int(token)] ..< offsets[Int(token) + 1]]
    }

    /// The byte a `<0xNN>` token text names.
    static func byteValue(_ text: ArraySlice<UInt8>) -> UInt8? {
        let bytes = Array(text)
        guard bytes.count == 6, bytes[0] == 0x3C, bytes[1] == 0x30, bytes[2] == 0x78, bytes[5] == 0x3E,
              let high = hexValue(bytes[3]), let low = hexValue(bytes[4]) else { return nil }
        return high << 4 | low
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30 ... 0x39: return digit - 0x30
        case 0x41 ... 0x46: return digit - 0x41 + 10
        case 0x61 ... 0x66: return digit - 0x61 + 10
        default: return nil
        }
    }

    /// SentencePiece writes spaces as U+2581 (E2 96 81).
    private static func appendUnescaped(_ text: ArraySlice<UInt8>, to storage: inout [UInt8]) {
        var index = text.startIndex
        while index < text.endIndex {
            if text[index] == 0xE2, index + 2 < text.endIndex, text[index + 1] == 0x96, text[index + 2] == 0x81 {
                storage.append(0x20)
                index += 3
            } else {
                storage.append(text[index])
                index += 1
            }
        }
    }
}
