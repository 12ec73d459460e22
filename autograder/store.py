"""A class's results on disk: one file per assignment and student, written atomically as soon as
that student is graded; the class's tables are rebuilt from these files, so no run ever drops a
grade it did not recompute.

Layout of the output folder (`--out`):

    <assignment>/<student>.json   the student's result (what `grade_all` returned for them)
    <assignment>/<student>.html   the student's feedback page
    <assignment>/grades.csv       that assignment's grades, every student on disk
    <assignment>/summary.txt      that assignment's summary
    grades.csv                    every assignment's grades (nbgrader export's columns)
    summary.txt                   every assignment's summary

Student ids and assignment names become file names through `file_name`, an injective and
readable encoding: no two ids share a file, and no id names a file outside its folder.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

# The class-wide files at the top of the output folder; no assignment folder may take their names.
TABLES = ("grades.csv", "summary.txt")
# The folder of results whose assignment could not be told; "%u" is never produced by `file_name`.
UNKNOWN_ASSIGNMENT = "%unknown"
_MAX_NAME_BYTES = 200   # file systems allow 255; room for ".json" and for the temporary file's affixes


def file_name(text: str, reserved: tuple[str, ...] = ()) -> str:
    """An injective, readable file name for `text` (a student id or an assignment name).

    Letters and digits of any script, "_", "-" and "." are kept; every other character (and "%", a
    leading ".", the first character of a `reserved` name) becomes %XX of its UTF-8 bytes, so
    "bob smith" is "bob%20smith" and never "bob_smith", and ".." is "%2E.". A name too long for a
    file system keeps its start and ends with "~" and a hash of the whole ("~" is always escaped).

    Args:
        text: any string.
        reserved: names the result must not be (the folder's own files).

    Returns:
        A non-empty file name without "/", NUL or a leading ".", distinct for distinct `text`.
    """
    def keep(i: int, char: str) -> bool:
        return (char.isalnum() or char in "_-.") and char.isprintable() and not (i == 0 and char == ".")

    name = "".join(char if keep(i, char) else "".join(f"%{b:02X}" for b in char.encode("utf-8", "surrogatepass"))
                   for i, char in enumerate(text)) or "%"
    if name in reserved:
        name = f"%{ord(name[0]):02X}{name[1:]}"
    if len(name.encode("utf-8")) > _MAX_NAME_BYTES:
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]
        name = name.encode("utf-8")[:_MAX_NAME_BYTES - 20].decode("utf-8", "ignore") + "~" + digest
    return name


def assignment_folder(out: Path, assignment: str | None) -> Path:
    """The folder of one assignment's results under `out`."""
    return out / (file_name(assignment, reserved=TABLES) if assignment else UNKNOWN_ASSIGNMENT)


def result_path(out: Path, data: dict) -> Path:
    """Where the result `data` (with its `student` and `assignment`) is kept."""
    return assignment_folder(out, data.get("assignment")) / f"{file_name(data['student'])}.json"


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a crash leaves either the old file or the new one, never a part.

    Raises:
        OSError: the folder cannot be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    # a leading "." and the ".tmp" suffix: never read back as a result (encoded names never start with ".")
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:  # the text exactly (CSV ends rows in CRLF)
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def save(out: Path, data: dict, feedback_html: str) -> Path:
    """Keep one student's result (`GradeResult.to_dict`) and feedback page; replaces only that
    student's files of that assignment.

    Returns:
        The path of the result's JSON file.
    """
    path = result_path(out, data)
    write_atomic(path.with_suffix(".html"), feedback_html)
    write_atomic(path, json.dumps(data, indent=2))
    return path


def load_all(out: Path) -> list[dict]:
    """Every result kept under `out`, sorted by assignment then student.

    A file is read back only where `result_path` would have put it, so stray JSON files (an older
    layout, the instructor's own) never enter the tables.
    """
    results = []
    for path in sorted(out.glob("*/*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and isinstance(data.get("student"), str) and result_path(out, data) == path:
            results.append(data)
    results.sort(key=lambda d: (d.get("assignment") or "", d["student"]))
    return results
