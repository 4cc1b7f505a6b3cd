#!/usr/bin/env python3
"""check_python.py cross-checks the committed goldens against Python Jinja2.

The goldens come from @huggingface/jinja (goldens.mjs). transformers itself
renders with Python Jinja2; this script renders every template x conversation
with the environment of transformers' _compile_jinja_template
(ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
tojson = json.dumps(ensure_ascii=False), raise_exception, strftime_now pinned
to the goldens' instant) after mlx-lm's server massaging, and reports where
Python and the goldens differ. It needs only python3 with jinja2 (Debian:
python3-jinja2); it is a development aid, not part of `go test`.

    python3 shared/chattemplate/testdata/gen/check_python.py
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import jinja2.ext
import jinja2.nodes
from jinja2.exceptions import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

TESTDATA = Path(__file__).resolve().parent.parent
FIXED_NOW = datetime(2025, 6, 15, 9, 5, 7, tzinfo=timezone.utc)  # = goldens.mjs FIXED_NOW


class GenerationExtension(jinja2.ext.Extension):
    """transformers' AssistantTracker tag, as a no-op."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
        return jinja2.nodes.Scope(body).set_lineno(lineno)


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return FIXED_NOW.strftime(fmt)


def make_env():
    env = ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[GenerationExtension, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def process_message_content(messages):
    """mlx_lm/server.py:process_message_content."""
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            text_fragments = [fragment["text"] for fragment in content if fragment["type"] == "text"]
            if len(text_fragments) != len(content):
                raise ValueError("Only 'text' content type is supported.")
            message["content"] = "".join(text_fragments)
        elif content is None:
            message["content"] = ""
        if tool_calls := message.get("tool_calls"):
            for tool_call in tool_calls:
                if func := tool_call.get("function"):
                    if args := func.get("arguments"):
                        func["arguments"] = json.loads(args)


def main() -> int:
    manifest = json.loads((TESTDATA / "templates" / "manifest.json").read_text())
    conversations = json.loads((TESTDATA / "conversations.json").read_text())
    env = make_env()
    same = differ = 0
    for name in sorted(manifest):
        tokens = manifest[name]
        template = env.from_string((TESTDATA / "templates" / f"{name}.jinja").read_text())
        for conv in conversations:
            messages = copy.deepcopy(conv["messages"])
            process_message_content(messages)
            kwargs = {k: v for k, v in tokens.items() if k.endswith("_token") and v}
            kwargs.update(conv.get("kwargs", {}))
            try:
                got = template.render(
                    messages=messages,
                    tools=conv.get("tools"),
                    documents=None,
                    add_generation_prompt=conv.get("add_generation_prompt", False),
                    **kwargs,
                )
                err = None
            except Exception as e:  # noqa: BLE001
                got, err = None, f"{type(e).__name__}: {e}"
            base = TESTDATA / "golden" / f"{name}__{conv['name']}"
            if base.with_suffix(".txt").exists():
                want = base.with_suffix(".txt").read_text()
                if got == want:
                    same += 1
                    continue
                differ += 1
                print(f"DIFF {base.name}: python {'error ' + err if err else repr(got)[:400]}\n  golden {repr(want)[:400]}")
            else:
                if err is not None:
                    same += 1
                    continue
                differ += 1
                print(f"DIFF {base.name}: golden is an error, python rendered {repr(got)[:200]}")
    print(f"python jinja2 {jinja2.__version__}: {same} agree with the goldens, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
