"""Student-controlled text made safe for where it is shown, and numbers rounded for reading.

Student ids, notebook names, exception messages and printed output reach the instructor's terminal,
text files and spreadsheets. A terminal obeys escape sequences (colours, titles, cursor moves, even
clipboard writes), a bidirectional override reorders what is read, and a spreadsheet runs a cell
that starts like a formula.
"""
from __future__ import annotations

import unicodedata

# OWASP's CSV injection guidance: a cell starting with one of these is read as a formula.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def printable(text: object, *, newlines: bool = True) -> str:
    """`text` with every control or format character written as an escape (\\x1b, \\u202e).

    Control characters (C0, DEL, C1), Unicode format characters (bidirectional overrides,
    zero-width characters), line and paragraph separators and lone surrogates are escaped, so
    nothing in the result acts on a terminal or reorders a line.

    Args:
        text: any value (converted with str).
        newlines: keep "\\n" as a line break (else escaped too, for one-line fields).

    Returns:
        The text, safe to print.
    """
    out = []
    for char in str(text):
        if char == "\n" and newlines:
            out.append(char)
        elif unicodedata.category(char) in ("Cc", "Cf", "Cs", "Zl", "Zp"):
            code = ord(char)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
        else:
            out.append(char)
    return "".join(out)


def csv_cell(value: object) -> object:
    """A value for a spreadsheet cell: text starting like a formula gets a leading "'" (OWASP's advice),
    so it is shown, not run, and its control characters and undecodable bytes are escaped (`printable`),
    so `cat grades.csv` is safe too; numbers are kept as they are."""
    if not isinstance(value, str):
        return value
    if value.startswith(_FORMULA_PREFIXES):
        value = "'" + value
    return printable(value, newlines=False)


def number(value: float) -> str:
    """A number rounded for reading: at most two decimals, no trailing zeros (8.33, 12, 0.5)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def score_text(score: float, max_score: float) -> str:
    """"8.33 / 12"."""
    return f"{number(score)} / {number(max_score)}"
