"""Renderers of the one result model (`autograder.results`): each reads `GradeResult`s and writes one
kind of output; none computes a total of its own.

- `gradescope`: Gradescope's results.json object (`grade --format json`)
- `text`: the readable report (`grade`), and one exercise's feedback (the gradebook's cells)
- `html`: a student's feedback page (grade-all)
- `table`: the grades CSV (nbgrader export's columns) and the demo's grade table
- `summary`: what a class got wrong
- `safe`: how student-controlled text is made safe for a terminal, a text file or a spreadsheet
"""
from .gradescope import to_gradescope
from .html import feedback_html
from .safe import csv_cell, printable, score_text
from .summary import class_summary, summary
from .table import csv_text, grade_table
from .text import exercise_feedback, to_text

__all__ = ["to_gradescope", "feedback_html", "csv_cell", "printable", "score_text", "summary", "class_summary", "csv_text",
           "grade_table", "exercise_feedback", "to_text"]
