// How a request becomes tokens, per prompt form: a fixed prefix (computed once per model and
// reused, as an agent's fixed prompt is), the request's text encoded alone (never parsed for
// special tokens), and a fixed suffix; the answer (a label, a JSON value) follows after
// `answerSeparator`. SmolLM2's ChatML is written here by hand, as its GGUF template renders it;
// the product renders the template itself.

import KansoEngine

enum PromptForm: String, CaseIterable {
    /// The text alone (after BOS where the model adds one): for hidden states only.
    case bare
    /// An instruction and the text in plain lines, the answer after "Category:" / "JSON:".
    case raw
    /// ChatML turns: the instruction as the system turn, the text as the user's, the answer as the assistant's.
    case chat
}

struct PromptPlan {
    let form: PromptForm
    let shotCount: Int
    let prefix: [Int32]
    let suffix: [Int32]
    let answerSeparator: String
    private let textLead: String
    private let tokenizer: Tokenizer

    var name: String { shotCount == 0 ? form.rawValue : "\(form.rawValue)+\(shotCount)shot" }

    /// The tokens after the prefix for `text`: the text, then the suffix.
    func tokens(_ text: String) -> [Int32] {
        let body = text.isEmpty ? [] : tokenizer.encode(textLead + text, addSpecial: false, parseSpecial: false)
        return body + suffix
    }

    /// The tokens of an answer as it follows the prompt.
    func answerTokens(_ answer: String) -> [Int32] {
        tokenizer.encode(answerSeparator + answer, addSpecial: false, parseSpecial: false)
    }

    /// Turns of SmolLM2's chat template (ChatML).
    static func chatTurn(_ role: String, _ content: String) -> String { "<|im_start|>\(role)\n\(content)<|im_end|>\n" }

    /// The plan of a prompt given as template text around `{text}` (the template's special tokens parsed).
    init(form: PromptForm, shotCount: Int, tokenizer: Tokenizer, before: String, after: String, textLead: String, answerSeparator: String) {
        self.form = form
        self.shotCount = shotCount
        self.tokenizer = tokenizer
        self.textLead = textLead
        self.answerSeparator = answerSeparator
        prefix = tokenizer.encode(before, addSpecial: true, parseSpecial: true)
        suffix = after.isEmpty ? [] : tokenizer.encode(after, addSpecial: false, parseSpecial: true)
    }

    /// An instruction, worked examples (text → answer) and the request in `form`: raw lines
    /// "<textLabel>: text" / "<answerLabel>: answer", or ChatML turns (the instruction as the system turn).
    static func make(form: PromptForm, tokenizer: Tokenizer, instruction: String, chatInstruction: String,
                     shots: [(text: String, answer: String)], textLabel: String, answerLabel: String) -> PromptPlan {
        switch form {
        case .bare:
            return PromptPlan(form: .bare, shotCount: 0, tokenizer: tokenizer, before: "", after: "", textLead: "", answerSeparator: "")
        case .raw:
            var before = instruction + "\n\n"
            for shot in shots { before += "\(textLabel): \(shot.text)\n\(answerLabel): \(shot.answer)\n\n" }
            return PromptPlan(form: .raw, shotCount: shots.count, tokenizer: tokenizer, before: before + textLabel + ":",
                              after: "\n\(answerLabel):", textLead: " ", answerSeparator: " ")
        case .chat:
            var before = chatTurn("system", instruction + " " + chatInstruction)
            for shot in shots { before += chatTurn("user", shot.text) + chatTurn("assistant", shot.answer) }
            return PromptPlan(form: .chat, shotCount: shots.count, tokenizer: tokenizer, before: before + "<|im_start|>user\n",
                              after: "<|im_end|>\n<|im_start|>assistant\n", textLead: "", answerSeparator: "")
        }
    }

    static func classify(form: PromptForm, tokenizer: Tokenizer, shots: [ClassifyItem]) -> PromptPlan {
        make(form: form, tokenizer: tokenizer,
             instruction: "Sort this customer support ticket into one category: billing, bug, feature request or account.",
             chatInstruction: "Reply with the category only.", shots: shots.map { ($0.text, $0.label) },
             textLabel: "Ticket", answerLabel: "Category")
    }

    static func extract(form: PromptForm, tokenizer: Tokenizer, shots: [ExtractItem], fields: [String], emptyForAbsent: Bool) -> PromptPlan {
        make(form: form == .bare ? .raw : form, tokenizer: tokenizer,
             instruction: "Copy the contact details (name, email, company, phone) from the text into JSON.",
             chatInstruction: "Reply with the JSON only.",
             shots: shots.map { ($0.text, $0.answerJSON(fields: fields, emptyForAbsent: emptyForAbsent)) },
             textLabel: "Text", answerLabel: "JSON")
    }
}
