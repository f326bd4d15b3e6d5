#!/usr/bin/env python3
"""Writes the golden renders of the chat template tests (Tests/KansoChatTemplateTests/Fixtures/):
goldens.json, every template in Fixtures/templates rendered by Jinja2 for every conversation in
Fixtures/conversations.json; snippets.json, the small templates of SNIPPETS below (one Jinja
feature each) with their context. Both as Hugging Face transformers renders chat templates (trim_blocks,
lstrip_blocks, loop controls, its tojson and raise_exception). A render the template refuses is
recorded as an error. strftime_now is not defined, so the Llama templates use their fixed date.
Needs jinja2 (pip install jinja2); for fixtures only, never for the product.

    python3 scripts/chat-template-goldens.py
"""
import json
import os

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "KansoChatTemplateTests", "Fixtures")

# Each template's bos_token and eos_token: the texts of those tokens in the model's vocabulary.
SPECIAL_TOKENS = {
    "gemma2-it.jinja": ("<bos>", "<eos>"),
    "gemma3-it.jinja": ("<bos>", "<eos>"),
    "llama3.1-instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama3.2-instruct.jinja": ("<|begin_of_text|>", "<|eot_id|>"),
    "phi3-mini-instruct.jinja": ("<s>", "<|endoftext|>"),
    "phi3.5-mini-instruct.jinja": ("<s>", "<|endoftext|>"),
    "qwen2-instruct.jinja": ("", "<|endoftext|>"),
    "qwen2.5-instruct.jinja": ("", "<|im_end|>"),
    "qwen3.jinja": ("", "<|im_end|>"),
    "smollm2-instruct.jinja": ("<|im_start|>", "<|im_end|>"),
}


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(value, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(value, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    return env


# One feature each: whitespace control, scoping, operators, filters, tests, methods, literals.
SNIPPETS = [
    ("a\n  {% if true %}\n  b\n  {% endif %}\n c", {}),
    ("a  {%- if true -%}  b  {%- endif %}  c\n", {}),
    ("{%+ if true %}x{% endif +%}\ny {{- ' z ' -}} w\n\n", {}),
    ("{# comment #}\n  {#- trimmed -#}  x{{ 1 }}\n{{ 2 }}\n", {}),
    ("{% set x = 0 %}{% for i in [1, 2] %}[{{ x }}{% set x = i %}{{ x }}]{% endfor %}{{ x }}", {}),
    ("{% set ns = namespace(n=0, s='') %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% set ns.s = ns.s ~ i %}{% endfor %}"
     "{{ ns.n }} {{ ns.s }}", {}),
    ("{% for i in items %}{{ loop.index }}/{{ loop.length }}:{{ i }}{% if loop.first %}F{% endif %}{% if loop.last %}L{% endif %}"
     "{% if not loop.first %}<{{ loop.previtem }}{% endif %}{% if not loop.last %}>{{ loop.nextitem }}{% endif %} "
     "{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.index0 }};{% else %}empty{% endfor %}", {"items": ["a", "b", "c"]}),
    ("{% for i in [] %}x{% else %}empty{% endfor %}{% for k, v in d | items %}{{ k }}={{ v }},{% endfor %}"
     "{% for k in d %}{{ k }}{% endfor %}{% for c in 'héé' %}[{{ c }}]{% endfor %}", {"d": {"b": 1, "a": [1, 2]}}),
    ("{% for i in range(10) if i % 3 == 0 %}{{ i }}{% if i > 5 %}{% break %}{% endif %}{{ loop.index }}{% endfor %}|"
     "{% for i in range(5) %}{% if i == 2 %}{% continue %}{% endif %}{{ i }}{% endfor %}", {}),
    ("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 4 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 - 4 }}"
     " {{ 1.5 + 1 }} {{ 0.1 + 0.2 }} {{ 1e3 }} {{ 2.5e-3 }} {{ -(3) }} {{ 'ab' * 3 }} {{ [1] + [2] }} {{ true + 1 }}", {}),
    ("{{ 1 ~ 'a' ~ none ~ true ~ [1, 'x'] ~ undefined_thing }} {{ 'a' 'b' }} {{ \"it's\" }} {{ ['it\\'s', \"q\\\"\"] }}"
     " {{ {'k': none, 'n': 1.0} }} {{ none }} {{ false }}", {}),
    ("{{ 'a' < 'b' }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 == 1.0 }} {{ 'a' in 'cat' }} {{ 'x' not in ['x'] }}"
     " {{ 'k' in {'k': 1} }} {{ not 1 == 2 }} {{ 0 or 'y' }} {{ 'x' and '' }} {{ none or [] }} {{ [1, 2] < [1, 3] }}", {}),
    ("{{ 'yes' if x else 'no' }} {{ 'y' if y }}|{{ a if a is defined else 'dflt' }} {{ x.missing }} {{ l[5] }} {{ l[-1] }}"
     " {{ d['k'] }} {{ d.k }} {{ d.get('z', 'g') }} {{ d.get('k') }} {{ s[1] }} {{ l.0 }}",
     {"x": 0, "y": False, "l": [1, 2, 3], "d": {"k": "v"}, "s": "hey"}),
    ("{{ l[1:] }} {{ l[:-1] }} {{ l[::-1] }} {{ l[::2] }} {{ l[-2:] }} {{ l[5:] }} {{ s[1:3] }} {{ s[::-1] }} {{ l[3:0:-1] }}"
     " {{ l[:0:-2] }}", {"l": [0, 1, 2, 3, 4], "s": "héllo"}),
    ("{{ '  x y  ' | trim }}|{{ 'xxhixx' | trim('x') }}|{{ l | length }} {{ s | length }} {{ d | count }} {{ u | length }}"
     "|{{ l | join(', ') }}|{{ l | join }}|{{ 'hello wORLD' | upper }} {{ 'HeLLo' | lower }} {{ 'hello wORLD' | capitalize }}"
     " {{ 'hello wORLD-x y' | title }}|{{ 42 | string }}{{ '7' | int + 1 }}{{ 'x' | int }}{{ '2.5' | float }}{{ 3.9 | int }}",
     {"l": [1, 2, 3], "s": "héllo", "d": {"a": 1}}),
    ("{{ u | default('d') }} {{ '' | default('e') }} {{ '' | default('e', true) }} {{ l | first }} {{ l | last }}"
     " {{ 'abc' | list }} {{ l | reverse | list }} {{ 'abc' | reverse }} {{ l | select('odd') | list }}"
     " {{ l | reject('equalto', 2) | list }} {{ [0, 1, '', 'a'] | select | list }} {{ 'a-b-a' | replace('a', 'c') }}"
     " {{ 'a-b-a' | replace('a', 'c', 1) }} {{ x | safe }}", {"l": [1, 2, 3], "x": "<b>"}),
    ("{{ people | selectattr('age', 'equalto', 3) | map(attribute='name') | join(',') }} {{ people | rejectattr('age') | list }}"
     " {{ people | map(attribute='name') | map('upper') | list }} {{ people | map(attribute='nick', default='?') | list }}"
     " {{ people | join('+', attribute='name') }}",
     {"people": [{"name": "ann", "age": 3}, {"name": "bob", "age": 0}, {"name": "cy", "age": 3}]}),
    ("{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ [] | tojson }}{{ {} | tojson(indent=2) }}|{{ 'é\\n\"\\\\\\t\\x01' | tojson }}"
     "|{{ d | tojson(sort_keys=true) }}",
     {"d": {"z": [1, 2.5, None, True, "x"], "a": {"b": {}, "c": []}}}),
    ("{{ x is defined }}{{ y is undefined }}{{ none is none }}{{ 's' is string }}{{ 1 is number }}{{ 1 is integer }}"
     "{{ 1.0 is float }}{{ true is boolean }}{{ true is true }}{{ 1 is true }}{{ {} is mapping }}{{ 's' is iterable }}"
     "{{ [] is sequence }}{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 'a' is in 'cat' }}{{ 2 is equalto 2 }}"
     "{{ 2 is eq(3) }}{{ 'ab' is lower }}{{ x is not none }}{{ 5 is ne 5 }}{{ false is sameas false }}", {"x": 1}),
    ("{{ ' a b '.strip() }}|{{ 'xxaxx'.strip('x') }}|{{ '  a'.lstrip() }}|{{ 'a\\n\\n'.rstrip('\\n') }}|"
     "{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a,b,c'.split(',', 1) }} {{ 'x</t>y</t>z'.split('</t>')[-1] }}|"
     "{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'Ab'.upper() }}{{ 'Ab'.lower() }}{{ 'ab cd'.title() }}"
     "{{ 'aB'.capitalize() }}{{ 'aaa'.replace('a', 'b', 2) }}|{{ d.items() | list }} {{ d.keys() | list }} {{ d.values() | list }}",
     {"d": {"a": 1, "b": 2}}),
    ("{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set c %}in {{ a }} block{% endset %}[{{ c }}]{% set t = (1, 'x') %}{{ t }}"
     "{{ (1) }}{{ () }}{{ [1, 2,] }}{{ {'a': 1,} }}", {}),
    ("{{ raise_exception('no ' ~ what) }}", {"what": "way"}),
    ("{% if x.y.z %}{% endif %}", {"x": {}}),
    ("{{ 'a' + 1 }}", {}),
    ("{{ messages[0]['content'] | trim + '|' + (x if loop_is_first else '') }}", {"messages": [{"content": " hi "}],
                                                                                    "x": "X", "loop_is_first": True}),
]


def rendered(entry, template, **context):
    """The entry with Jinja2's output, or with its error where the render fails."""
    try:
        entry["output"] = template.render(**context)
    except (jinja2.exceptions.TemplateError, TypeError) as error:
        entry["error"] = str(error)
    return entry


def write_json(name, value):
    with open(os.path.join(FIXTURES, name), "w", encoding="utf-8", newline="\n") as f:
        json.dump(value, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"{len(value)} entries written to {name}")


def write_snippets(env):
    write_json("snippets.json", [rendered({"template": text, "context": context}, env.from_string(text), **context)
                                 for text, context in SNIPPETS])


def main():
    env = environment()
    write_snippets(env)
    with open(os.path.join(FIXTURES, "conversations.json"), encoding="utf-8") as f:
        conversations = json.load(f)
    goldens = []
    for name in sorted(os.listdir(os.path.join(FIXTURES, "templates"))):
        if not name.endswith(".jinja"):
            continue
        with open(os.path.join(FIXTURES, "templates", name), encoding="utf-8", newline="") as f:
            template = env.from_string(f.read())
        bos, eos = SPECIAL_TOKENS[name]
        for conversation in conversations:
            context = {k: v for k, v in conversation.items() if k != "name"}
            entry = {"template": name, "conversation": conversation["name"], "bos_token": bos, "eos_token": eos}
            goldens.append(rendered(entry, template, bos_token=bos, eos_token=eos, **context))
    write_json("goldens.json", goldens)


if __name__ == "__main__":
    main()
