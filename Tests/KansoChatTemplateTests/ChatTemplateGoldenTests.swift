import KansoChatTemplate
import Testing

/// Every reference chat template (Fixtures/templates: SmolLM2, Qwen2/2.5/3, Gemma 2/3, Llama 3.1/3.2,
/// Phi-3/3.5), rendered for every conversation of Fixtures/conversations.json, equals what Jinja2
/// renders (Fixtures/goldens.json, from scripts/chat-template-goldens.py); where Jinja2's render
/// raised, so does ours, with the same message for the template's own raise_exception.
@Suite("Chat template goldens")
struct ChatTemplateGoldenTests {
    struct Golden: CustomTestStringConvertible, Sendable {
        let entry: TemplateValue
        var testDescription: String { "\(entry["template"]?.string ?? "?") / \(entry["conversation"]?.string ?? "?")" }
    }

    static let goldens = Fixtures.json("goldens.json").items.map(Golden.init)
    static let conversations: [String: TemplateValue] = {
        var byName: [String: TemplateValue] = [:]
        for conversation in Fixtures.json("conversations.json").items { byName[conversation["name"]?.string ?? ""] = conversation }
        return byName
    }()

    @Test("the fixtures are there")
    func fixturesLoad() {
        #expect(Self.goldens.count >= 90)
        #expect(Self.conversations.count >= 9)
    }

    @Test("renders as Jinja2", arguments: goldens)
    func rendersAsJinja2(_ golden: Golden) throws {
        let entry = golden.entry
        let name = try #require(entry["template"]?.string)
        let template = try ChatTemplate(Fixtures.text("templates/" + name))
        guard case .dictionary(let conversation)? = Self.conversations[entry["conversation"]?.string ?? ""] else {
            Issue.record("no conversation \(golden.testDescription)")
            return
        }
        var context: [String: TemplateValue] = [:]
        for pair in conversation.pairs where pair.key != "name" { context[pair.key] = pair.value }
        context["bos_token"] = entry["bos_token"]
        context["eos_token"] = entry["eos_token"]
        if let expected = entry["output"]?.string {
            let rendered = try template.render(context: context)
            #expect(rendered == expected)
        } else {
            let message = entry["error"]?.string ?? ""
            do {
                _ = try template.render(context: context)
                Issue.record("rendered, but Jinja2 raised: \(message)")
            } catch {
                #expect(error.kind == .raised && error.message == message, "\(error)")
            }
        }
    }
}

/// One Jinja feature each (Fixtures/snippets.json): whitespace control, scoping, operators, filters,
/// tests, methods, literals, each rendered as Jinja2 renders it or failing where it fails.
@Suite("Chat template snippets")
struct ChatTemplateSnippetTests {
    struct Snippet: CustomTestStringConvertible, Sendable {
        let entry: TemplateValue
        var testDescription: String { entry["template"]?.string ?? "?" }
    }

    static let snippets = Fixtures.json("snippets.json").items.map(Snippet.init)

    @Test("renders as Jinja2", arguments: snippets)
    func rendersAsJinja2(_ snippet: Snippet) throws {
        let text = try #require(snippet.entry["template"]?.string)
        var context: [String: TemplateValue] = [:]
        if case .dictionary(let given)? = snippet.entry["context"] {
            for pair in given.pairs { context[pair.key] = pair.value }
        }
        if let expected = snippet.entry["output"]?.string {
            #expect(try ChatTemplate(text).render(context: context) == expected)
        } else {
            #expect(throws: TemplateError.self) { try ChatTemplate(text).render(context: context) }
        }
    }
}
