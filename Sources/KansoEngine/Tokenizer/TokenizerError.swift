// Everything that can be wrong with a tokenizer description: missing or mistyped GGUF keys,
// arrays of mismatched lengths, ids outside the vocabulary, tokenizer kinds we do not implement.
// Each case carries the offending value and names the key or field it came from.

public enum TokenizerError: Error, CustomStringConvertible, Equatable {
    /// A required `tokenizer.ggml.*` key is absent.
    case missingKey(String)
    /// A key is present with a type we cannot use.
    case wrongType(key: String, expected: String)
    /// `tokenizer.ggml.model` names a tokenizer we do not implement.
    case unsupportedModel(String)
    /// `tokenizer.ggml.pre` names a pre-tokenizer we do not implement.
    case unsupportedPreTokenizer(String)
    case emptyVocabulary
    /// A per-token array (scores, token types) is shorter than the token list.
    case lengthMismatch(field: String, expected: Int, actual: Int)
    /// Two entries of the token list have the same text.
    case duplicateToken(text: String, firstID: Int, secondID: Int)
    /// A special token id (bos, eos, ...) outside 0..<vocabularySize.
    case tokenOutOfRange(name: String, id: Int, vocabularySize: Int)
    /// `add_bos_token` (or eos, sep) is set but the matching token id is not.
    case addSpecialWithoutToken(flag: String)
    /// A token type number outside the seven GGUF token types.
    case invalidTokenType(id: Int, value: Int)

    public var description: String {
        switch self {
        case let .missingKey(key):
            return "tokenizer: required metadata key '\(key)' is missing"
        case let .wrongType(key, expected):
            return "tokenizer: metadata key '\(key)' is not \(expected)"
        case let .unsupportedModel(name):
            return "tokenizer: tokenizer.ggml.model '\(name)' is not supported (supported: llama, gpt2, gemma4, bert)"
        case let .unsupportedPreTokenizer(name):
            return "tokenizer: tokenizer.ggml.pre '\(name)' is not supported"
        case .emptyVocabulary:
            return "tokenizer: the token list is empty"
        case let .lengthMismatch(field, expected, actual):
            return "tokenizer: \(field) has \(actual) entries, the token list has \(expected)"
        case let .duplicateToken(text, firstID, secondID):
            return "tokenizer: token text '\(text)' appears twice (ids \(firstID) and \(secondID))"
        case let .tokenOutOfRange(name, id, vocabularySize):
            return "tokenizer: \(name) token id \(id) is outside the vocabulary (size \(vocabularySize))"
        case let .addSpecialWithoutToken(flag):
            return "tokenizer: \(flag) is true but the token it adds is not defined"
        case let .invalidTokenType(id, value):
            return "tokenizer: token \(id) has token type \(value), expected 0...6"
        }
    }
}
