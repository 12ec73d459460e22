"""Maths readable offline: the LaTeX of a notebook's markdown cells rendered to MathML when the page
is made, so nbgrader's feedback page needs no MathJax from a CDN (browsers draw MathML natively).

`MathMLPreprocessor` is an nbconvert preprocessor; the derived nbgrader_config.py runs it in
`generate_feedback`, whose template (templates/offline_feedback: nbgrader's own but for its
`mathjax` macro, which there loads nothing) then asks nothing of the network.
"""
from __future__ import annotations

import re
from pathlib import Path

from latex2mathml.converter import convert
from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

TEMPLATES = Path(__file__).resolve().parent / "templates"

# Code (fenced blocks, inline spans) is left as it is; then display maths before inline maths.
_CODE = re.compile(r"(```.*?```|~~~.*?~~~|`[^`\n]*`)", re.S)
_MATHS = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|\\\[(.+?)\\\]|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\d)|\\\((.+?)\\\)",
                    re.S)


def _render(match: re.Match) -> str:
    display, bracket, inline, paren = match.groups()
    latex = display or bracket or inline or paren
    try:
        return convert(latex.strip(), display="block" if display or bracket else "inline")
    except Exception:   # latex2mathml raises its own errors and others on LaTeX it cannot read: keep the text
        return match.group(0)


def markdown_to_mathml(source: str) -> str:
    """`source` (a markdown cell) with each $...$, $$...$$, \\(...\\) and \\[...\\] written as MathML;
    code spans and blocks, escaped dollars and LaTeX that cannot be read are kept as they are."""
    parts = _CODE.split(source)
    return "".join(part if i % 2 else _MATHS.sub(_render, part) for i, part in enumerate(parts))


# Long lines wrap or scroll inside their cell, never past the page (nbgrader's page inlines this).
WRAP_CSS = """
div.output_area pre, div.input_area pre, div.text_cell_render pre {white-space: pre-wrap; overflow-wrap: anywhere;}
div.output_subarea, div.inner_cell, div.text_cell_render {min-width: 0; overflow-x: auto; overflow-wrap: anywhere;}
math[display="block"] {overflow-x: auto; max-width: 100%;}
"""


class MathMLPreprocessor(Preprocessor):
    """Markdown cells' maths as MathML (for an HTML page read offline), and the page's stylesheet
    extended so long lines wrap. Runs after nbconvert's CSSHTMLHeaderPreprocessor (which sets the
    stylesheets the page inlines)."""

    enabled = Bool(True, help="nbconvert runs a preprocessor only when enabled (its default: False)").tag(config=True)

    def preprocess(self, nb, resources):
        resources.setdefault("inlining", {}).setdefault("css", []).append(WRAP_CSS)
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = markdown_to_mathml(cell.source)
        return cell, resources
