#!/usr/bin/env python3
"""Writes Tests/KansoEngineTests/Fixtures/chat_prompt_tokens.json: llama.cpp's tokens (through
llama-cpp-python, vocabulary only) of chat prompts for the two real models that
scripts/install-models.sh installs, with the control tokens of the template's text parsed
(special=True). Kanso tokenizes the same prompt as segments (the template's text parsed, the
request's text not); where the request's text holds no control-token text the two must agree,
BOS included once. Gemma's prompt writes <bos> itself, so llama.cpp adds none (add_bos=False),
as Kanso does not add a second.

    pip install llama-cpp-python==0.3.36
    python3 scripts/chat-prompt-token-goldens.py
"""
import json
import os

import llama_cpp

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
FIXTURE = os.path.join(ROOT, "Tests", "KansoEngineTests", "Fixtures", "chat_prompt_tokens.json")
MODELS = "/var/lib/kanso/models" if os.getuid() == 0 else os.path.expanduser("~/.local/share/kanso/models")
MODELS = os.environ.get("KANSO_MODEL_DIR", MODELS)

# (model file, the template's text before the request, after it, add BOS as the model says)
FRAMES = [
    ("SmolLM2-135M-Instruct.Q4_1.gguf",
     "<|im_start|>system\nYou sort customer support tickets.<|im_end|>\n<|im_start|>user\nTicket: ",
     "\nCategory:<|im_end|>\n<|im_start|>assistant\n", True),
    ("gemma-3-270m-q4_k_m.gguf", "<bos><start_of_turn>user\nBe brief.\n\n", "<end_of_turn>\n<start_of_turn>model\n", False),
]
REQUESTS = ["I was charged twice for my subscription.", "  spaces around  ", "ünïcödé 東京 🙂", "line one\nline two", ""]


def main():
    cases = []
    for file, prefix, suffix, add_bos in FRAMES:
        llm = llama_cpp.Llama(model_path=os.path.join(MODELS, file), vocab_only=True, verbose=False)
        for text in REQUESTS:
            tokens = llm.tokenize((prefix + text + suffix).encode(), add_bos=add_bos, special=True)
            cases.append({"model": file, "prefix": prefix, "text": text, "suffix": suffix, "tokens": tokens})
    with open(FIXTURE, "w", encoding="utf-8", newline="\n") as f:
        f.write('{"llama_cpp_python": %s, "cases": [\n' % json.dumps(llama_cpp.__version__))
        f.write(",\n".join(json.dumps(case, ensure_ascii=False) for case in cases))
        f.write("\n]}\n")
    print(f"{len(cases)} cases written to {FIXTURE}")


if __name__ == "__main__":
    main()
