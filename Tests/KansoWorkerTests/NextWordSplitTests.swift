@testable import KansoWorker
import Testing

/// Where next-word prediction starts: the end of the request's text decides whether a word is
/// being typed (complete it), a new word begins, or punctuation leaves it free.
@Suite("Next words: the word being typed")
struct NextWordSplitTests {
    @Test("what the end of the text asks next words for")
    func wordStart() {
        func split(_ prefix: String, _ text: String, _ suffix: String = "") -> (String, String, NextWordPredictor.WordStart) {
            let (context, start) = NextWordPredictor.split(PromptText(prefix: prefix, text: text, suffix: suffix, chat: false),
                                                           addsSpacePrefix: true)
            return (context.prefix, context.text, start)
        }
        #expect(split("", "The little do") == ("", "The little", .completing(typed: Array("do".utf8), spaced: true)))
        #expect(split("", "state-of-the-ar") == ("", "state-of-the-", .completing(typed: Array("ar".utf8), spaced: false)))
        #expect(split("", "Th") == ("", "", .completing(typed: Array("Th".utf8), spaced: true)), "a first word: ▁Th")
        #expect(split("", "The little ") == ("", "The little", .newWord))
        #expect(split("a girl named ", "") == ("a girl named", "", .newWord))
        #expect(split("", "Hello,") == ("", "Hello,", .free))
        #expect(split("User: ", "hi", " Answer:") == ("User: ", "hi", .free))
    }
}
