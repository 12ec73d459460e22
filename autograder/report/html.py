"""A student's feedback page: per exercise its subtotal, then each check, passed or failed, and its
message; what the notebook printed, collapsed. No check code. The page stands alone: no script, no
font or stylesheet from the network, and nothing wider than the window (long lines wrap)."""
from __future__ import annotations

import html

from ..results import GradeResult
from .safe import number, printable, score_text
from .text import OUTPUT_TITLE, headline, student_output

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;padding:0 1em;line-height:1.4}
h1{font-size:1.5em} h2{font-size:1.15em;margin:1.4em 0 .4em;display:flex;justify-content:space-between;
  gap:1em;border-bottom:2px solid #ccc;flex-wrap:wrap}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td{vertical-align:top;padding:.3em .6em;border-bottom:1px solid #ddd;overflow-wrap:anywhere}
td.points{width:6em;white-space:nowrap} td.verdict{width:5em;font-weight:bold}
tr.ok td.verdict{color:#270} tr.ko td.verdict{color:#a00}
pre{white-space:pre-wrap;overflow-wrap:anywhere;margin:.3em 0 0;font-size:.9em}
details{margin-top:1.5em} summary{cursor:pointer;font-weight:bold}
pre.output{max-height:30em;overflow:auto;background:#f6f6f6;padding:.6em;border:1px solid #ddd}
""".strip()


def feedback_html(result: GradeResult) -> str:
    """The page, every student-controlled text escaped."""
    def e(text: object) -> str:
        return html.escape(printable(text))

    sections = []
    for ex in result.exercises:
        rows = []
        for check in ex.checks:
            feedback = f"<pre>{e(check.feedback)}</pre>" if check.feedback else ""
            rows.append(f"<tr class={'ok' if check.passed else 'ko'}>"
                        f"<td class=verdict>{'passed' if check.passed else 'failed'}</td>"
                        f"<td>{e(check.question)}{feedback}</td>"
                        f"<td class=points>{score_text(check.score, check.points)}</td></tr>")
        sections.append(f"<h2><span>{e(ex.name)}</span><span>{score_text(ex.score, ex.points)} points</span></h2>\n"
                        f"<table>{''.join(rows)}</table>")
    output = ""
    if result.output:
        lines = len(result.output.splitlines())
        output = (f"<details><summary>{e(OUTPUT_TITLE)} ({lines} line{'s' if lines != 1 else ''}: what its cells "
                  f"printed)</summary><pre class=output>{html.escape(student_output(result))}</pre></details>")
    title = e(result.assignment or "unknown assignment")
    late = (f" ({number(result.score)} for the checks, minus {number(result.late_penalty)} for late work)"
            if result.late_penalty else "")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Feedback: {title}</title>
<style>{_STYLE}</style></head>
<body><h1>{title}: {score_text(result.final_score, result.max_score)} points{late}</h1>
<p>Student: {e(result.student)}</p><pre>{html.escape(headline(result).split(chr(10), 1)[1])}</pre>
{chr(10).join(sections)}
{output}
</body></html>
"""
