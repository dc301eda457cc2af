#!/usr/bin/env python3
"""Render every role's variables from its meta/argument_specs.yml into docs/variables.md.

    tools/role_docs.py          rewrite the section between the markers
    tools/role_docs.py --check  exit 1 if docs/variables.md is out of date (the test suite runs this)
"""

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "docs" / "variables.md"


class SpecLoader(yaml.SafeLoader):
    """Argument specs may mark templated defaults !unsafe: show them as written."""


def _unsafe(loader, node):
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)


SpecLoader.add_constructor("!unsafe", _unsafe)

BEGIN, END = "<!-- BEGIN ROLE VARIABLES (tools/role_docs.py) -->", "<!-- END ROLE VARIABLES -->"


def cell(text):
    if isinstance(text, list):
        text = " ".join(text)
    return str(text).replace("|", "\\|").replace("\n", " ")


def default_of(spec):
    if "default" not in spec:
        return ""
    value = spec["default"]
    return f"`{yaml.safe_dump(value, default_flow_style=True).strip().removesuffix('...').strip()}`"


def render():
    out = []
    # The fabric-wide settings first: every other role defaults from them.
    for specs in sorted(ROOT.glob("roles/*/meta/argument_specs.yml"), key=lambda p: (p.parts[-3] != "zeromq", p)):
        role = specs.parents[1].name
        main = yaml.load(specs.read_text(), SpecLoader)["argument_specs"]["main"]  # noqa: S506 (a SafeLoader)
        out += [f"### `zeromq.messaging.{role}`", "", cell(main.get("short_description", "")), ""]
        out += ["| variable | type | default | description |", "|---|---|---|---|"]
        for name, spec in sorted(main.get("options", {}).items()):
            kind = spec.get("type", "str") + (f" of {spec['elements']}" if "elements" in spec else "")
            choices = f" One of: {', '.join(map(str, spec['choices']))}." if "choices" in spec else ""
            out.append(f"| `{name}` | {kind} | {default_of(spec)} | {cell(spec.get('description', ''))}{choices} |")
        out.append("")
    return "\n".join(out)


def main():
    text = README.read_text()
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    fresh = f"{head}{BEGIN}\n{render()}\n{END}{tail}"
    if "--check" in sys.argv:
        if fresh != text:
            print("docs/variables.md is out of date: run tools/role_docs.py", file=sys.stderr)
            return 1
        return 0
    README.write_text(fresh)
    return 0


if __name__ == "__main__":
    sys.exit(main())
