// GPT-2's reversible byte <-> character map: byte-level BPE vocabularies spell every byte as a
// printable character, so a token text such as "Ġworld" stands for the bytes " world".
// Printable Latin-1 bytes ('!'...'~', '¡'...'¬', '®'...'ÿ') map to themselves; the other 68
// bytes map, in byte order, to U+0100, U+0101, ... (OpenAI gpt-2 encoder.py bytes_to_unicode).

enum ByteLevelMapping {
    /// The character each byte is spelled as, as a scalar value.
    static let scalarForByte: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var next: UInt32 = 256
        for byte in 0 ..< 256 {
            let printable = (0x21 ... 0x7E).contains(byte) || (0xA1 ... 0xAC).contains(byte) || (0xAE ... 0xFF).contains(byte)
            if printable {
                table[byte] = UInt32(byte)
            } else {
                table[byte] = next
                next += 1
            }
        }
        return table
    }()

    /// The UTF-8 bytes of the character each byte is spelled as.
    static let utf8ForByte: [[UInt8]] = scalarForByte.map { value in
        Array(String(Character(Unicode.Scalar(value)!)).utf8)
    }

    /// The byte a character stands for, indexed by scalar value (below 0x144); -1 if none.
    static let byteForScalar: [Int16] = {
        var table = [Int16](repeating: -1, count: 0x144)
        for (byte, scalar) in scalarForByte.enumerated() { table[Int(scalar)] = Int16(byte) }
        return table
    }()

    /// Decodes a byte-level token text (UTF-8) to the bytes it stands for. A character outside
    /// the map (not produced by byte-level encoding) is kept as its own UTF-8 bytes.
    static func decode(_ text: ArraySlice<UInt8>, into bytes: inout [UInt8]) {
        var index = text.startIndex
        while index < text.endIndex {
            let lead = text[index]
            // Mapped characters are ASCII or two-byte sequences (U+00A1 ... U+0143).
            if lead < 0x80 {
                if byteForScalar[Int(lead)] >= 0 {
                    bytes.append(UInt8(byteForScalar[Int(lead)]))
                } else {
                    bytes.append(lead)
                }
                index += 1
                continue
            }
            if lead & 0xE0 == 0xC0, index + 1 < text.endIndex {
                let value = Int(lead & 0x1F) << 6 | Int(text[index + 1] & 0x3F)
                if value < byteForScalar.count, byteForScalar[value] >= 0 {
                    bytes.append(UInt8(byteForScalar[value]))
                    index += 2
                    continue
                }
            }
            // Not a mapped character: copy its whole UTF-8 sequence.
            let length = min(SentencePieceModel.sequenceLength(lead), text.endIndex - index)
            bytes.append(contentsOf: text[index ..< index + length])
            index += length
        }
    }

    static func decode(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        decode(Array(text.utf8)[...], into: &bytes)
        return bytes
    }
}
