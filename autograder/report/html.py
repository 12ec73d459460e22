"""A student's feedback page: each check, passed or failed, and its message. No check code."""
from __future__ import annotations

import html

from ..results import GradeResult
from .safe import printable, score_text
from .text import headline


def feedback_html(result: GradeResult) -> str:
    """The page, every student-controlled text escaped."""
    def e(text: object) -> str:
        return html.escape(printable(text))

    rows = []
    for ex in result.exercises:
        for check in ex.checks:
            rows.append(f"<tr class={'ok' if check.passed else 'ko'}><td>{e(ex.name)}</td><td>{e(check.question)}</td>"
                        f"<td>{score_text(check.score, check.points)}</td>"
                        f"<td>{'passed' if check.passed else ''}{'<pre>' + e(check.feedback) + '</pre>' if check.feedback else ''}"
                        "</td></tr>")
    title = e(result.assignment or "unknown assignment")
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>Feedback: {title}</title>
<style>body{{font-family:sans-serif;margin:2em}} td{{vertical-align:top;padding:.3em .6em;border-bottom:1px solid #ddd}}
tr.ok td:last-child{{color:#270}} tr.ko td:last-child{{color:#a00}} pre{{white-space:pre-wrap;margin:0}}</style></head>
<body><h1>{title}: {score_text(result.score, result.max_score)}</h1>
<p>Student: {e(result.student)}</p><pre>{html.escape(headline(result))}</pre>
<table><tr><th>exercise</th><th>check</th><th>points</th><th>feedback</th></tr>
{''.join(rows)}
</table></body></html>
"""
