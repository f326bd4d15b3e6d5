import KansoChatTemplate
import Testing

/// Constructs outside the subset are refused by name, when the template is parsed or (for a
/// function the template calls) rendered, never rendered some other way; syntax errors say where.
@Suite("Chat template refusals")
struct ChatTemplateRefusalTests {
    static let refused: [(template: String, names: String)] = [
        ("{% macro greet(name) %}hi {{ name }}{% endmacro %}{{ greet('x') }}", "{% macro %}"),
        ("{% filter upper %}x{% endfilter %}", "{% filter %}"),
        ("{% include 'other.jinja' %}", "{% include %}"),
        ("{% raw %}{{ x }}{% endraw %}", "{% raw %}"),
        ("{% with a = 1 %}{{ a }}{% endwith %}", "{% with %}"),
        ("{% generation %}x{% endgeneration %}", "{% generation %}"),
        ("{{ messages | wordcount }}", "the filter 'wordcount'"),
        ("{{ x is callable }}", "the test 'is callable'"),
        ("{{ 'a'.format(1) }}", "the method .format()"),
        ("{% for m in messages recursive %}{% endfor %}", "recursive for loops"),
        ("{{ f(*args) }}", "*args"),
    ]

    @Test("refused at parse, by name", arguments: refused.indices)
    func refusedAtParse(_ index: Int) {
        let (template, name) = Self.refused[index]
        do {
            _ = try ChatTemplate(template)
            Issue.record("parsed: \(template)")
        } catch {
            #expect(error.kind == .unsupported)
            #expect(error.description.contains(name), "\(error)")
        }
    }

    @Test("a function Kanso does not provide is refused when the template calls it")
    func unknownFunction() throws {
        let template = try ChatTemplate("{% if strftime_now is defined %}{{ strftime_now('%d') }}{% else %}fixed{% endif %}")
        #expect(try template.render(context: [:]) == "fixed")
        let calling = try ChatTemplate("{{ strftime_now('%d') }}")
        #expect(throws: TemplateError(.unsupported, "the function strftime_now(), which Kanso does not provide", line: 1)) {
            try calling.render(context: [:])
        }
    }

    @Test("syntax errors give the line")
    func syntaxErrors() {
        for (text, line) in [("a\n{% if x %}\nb", 3), ("{{ x", 1), ("a\n\n{% endfor %}", 3), ("{{ 'open }}", 1),
                             ("x\n{{ (1 }}", 2), ("{# never closed", 1), ("{% set %}", 1)] {
            do {
                _ = try ChatTemplate(text)
                Issue.record("parsed: \(text)")
            } catch {
                #expect(error.kind == .syntax, "\(text): \(error)")
                #expect(error.line == line, "\(text): \(error)")
            }
        }
    }

    @Test("raise_exception is the template refusing the conversation")
    func raisedByTemplate() throws {
        let template = try ChatTemplate(Fixtures.text("templates/gemma2-it.jinja"))
        let messages = [ChatMessage(role: "system", content: "Be brief."), ChatMessage(role: "user", content: "Hi")]
        #expect(throws: TemplateError(.raised, "System role not supported", line: 1)) {
            try template.render(messages: messages, addGenerationPrompt: true, bosToken: "<bos>", eosToken: "<eos>")
        }
    }
}

/// The frame around a request's text: what the template renders for the system turn and the user
/// turn, split where the text goes, so that prefix + text + suffix is the whole conversation.
@Suite("Chat prompt frame")
struct ChatPromptFrameTests {
    @Test("SmolLM2's frame, with and without a system turn")
    func smolLM2() throws {
        let template = try ChatTemplate(Fixtures.text("templates/smollm2-instruct.jinja"))
        let framed = try ChatPromptFrame.render(template, system: "Sort tickets.", user: "Ticket: {text}\nCategory?",
                                                bosToken: "<|im_start|>", eosToken: "<|im_end|>")
        #expect(framed.prefix == "<|im_start|>system\nSort tickets.<|im_end|>\n<|im_start|>user\nTicket: ")
        #expect(framed.suffix == "\nCategory?<|im_end|>\n<|im_start|>assistant\n")
        let defaulted = try ChatPromptFrame.render(template, system: nil, user: "{text}", bosToken: "<|im_start|>", eosToken: "<|im_end|>")
        #expect(defaulted.prefix.hasPrefix("<|im_start|>system\nYou are a helpful AI assistant named SmolLM"))
        #expect(defaulted.suffix == "<|im_end|>\n<|im_start|>assistant\n")
    }

    @Test("Gemma 3 puts the system text into the first user turn and writes BOS itself")
    func gemma3() throws {
        let template = try ChatTemplate(Fixtures.text("templates/gemma3-it.jinja"))
        let framed = try ChatPromptFrame.render(template, system: "Be brief.", user: "{text}", bosToken: "<bos>", eosToken: "<eos>")
        #expect(framed.prefix == "<bos><start_of_turn>user\nBe brief.\n\n")
        #expect(framed.suffix == "<end_of_turn>\n<start_of_turn>model\n")
    }

    @Test("a template that drops or repeats the user's message cannot frame a request")
    func misplacedRequest() throws {
        let dropping = try ChatTemplate("{% for m in messages if m.role == 'system' %}{{ m.content }}{% endfor %}")
        #expect(throws: ChatFrameError.requestPlacedTimes(0)) {
            try ChatPromptFrame.render(dropping, system: "s", user: "{text}", bosToken: "", eosToken: "")
        }
        let repeating = try ChatTemplate("{% for m in messages %}{{ m.content }}|{{ m.content }}{% endfor %}")
        #expect(throws: ChatFrameError.requestPlacedTimes(2)) {
            try ChatPromptFrame.render(repeating, system: nil, user: "{text}", bosToken: "", eosToken: "")
        }
        #expect(throws: ChatFrameError.noMarker("{text}")) {
            try ChatPromptFrame.render(repeating, system: nil, user: "no marker", bosToken: "", eosToken: "")
        }
    }
}

/// A template comes with a model file, which may come from anywhere: one that nests absurdly deep,
/// loops for ever or writes without end is an error, in bounded time and memory.
@Suite("Chat template limits")
struct ChatTemplateLimitTests {
    @Test("nesting beyond the limit is refused at parse")
    func deepNesting() throws {
        for text in ["{{ " + String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000) + " }}",
                     "{{ " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + " }}",
                     "{{ " + String(repeating: "not ", count: 10_000) + "x }}", "{{ " + String(repeating: "-", count: 10_000) + "1 }}",
                     String(repeating: "{% if x %}", count: 500) + String(repeating: "{% endif %}", count: 500)] {
            #expect(throws: TemplateError.self) { try ChatTemplate(text) }
        }
        let nested = try? ChatTemplate("{{ " + String(repeating: "(", count: 20) + "1" + String(repeating: ")", count: 20) + " }}")
        #expect(try nested?.render(context: [:]) == "1")
    }

    @Test("endless loops and endless text end in an error")
    func runaway() throws {
        for text in ["{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
                     "{{ 'x' * 1000000000000 }}", "{% for i in range(100000) %}{{ 'abcdefghijklmnop' }}{% endfor %}"] {
            let template = try ChatTemplate(text)
            #expect(throws: TemplateError.self) { try template.render(context: [:]) }
        }
    }
}
