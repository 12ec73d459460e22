"""Finding a class's submissions, and refusing those that are not the student's own plain file.

Rules (docs/grade-all.md):
- A notebook, a student's folder or an assignment folder that is a symbolic link is not graded: it
  may point at the instructor's source notebook, another student's work or a system file. The
  student gets a zero that says so.
- A notebook with several names on its file system (a hard link) is graded only when every one of
  its names is a submission of this class (each is graded, and each result names the others, for
  the instructor to look at); a name elsewhere may be the instructor's source notebook, so then
  none is graded and each gets a zero that says so.
- Anything that is not a regular file (a FIFO named .ipynb, a device) is not read.
- A folder with several notebooks: `<assignment>.ipynb` is graded and the result names the others,
  which are not; without `<assignment>.ipynb` none is chosen and the student gets a zero that says so.
- Checkpoints (.ipynb_checkpoints), what a Mac's zip adds (a __MACOSX folder, "._" AppleDouble files
  beside the notebook; .DS_Store is no notebook anyway) and the output folder, when it lies inside the
  class folder, are not submissions.
- A browser's second download ("a01_perceptron (1).ipynb") alone in its folder is graded as the
  assignment's notebook; beside `<assignment>.ipynb`, the rule above applies (and the result says so).
- One student's folder (`submitted/<student>`, holding assignment folders) or one assignment folder
  (`submitted/<student>/<assignment>`, holding `<assignment>.ipynb`) may be given as the class folder:
  that student alone is found.
"""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass, replace
from pathlib import Path

NOTEBOOK_SUFFIX = ".ipynb"
# Folders that are never a student's or an assignment's: Jupyter's checkpoints, a Mac zip's resource forks.
JUNK_FOLDERS = (".ipynb_checkpoints", "__MACOSX")
APPLE_DOUBLE = "._"   # "._a01_perceptron.ipynb": a Mac's resource fork of the notebook, not a notebook


@dataclass(frozen=True)
class Submission:
    """One student's notebook for one assignment, or the reason it cannot be graded."""

    student: str
    assignment: str | None   # None: from the notebook's metadata or name
    path: Path
    refused: str = ""        # why it is not graded (a zero with this reason)
    note: str = ""           # what the student's result should also say (other notebooks ignored)
    links: int = 1           # names of its file known to be this class's submissions (hard links)
    folder: Path | None = None   # where nbgrader keeps its timestamp.txt (None: a flat layout)


def find_submissions(root: str | Path, assignment: str | None = None, *,
                     exclude: tuple[Path, ...] = (), assignments: tuple[str, ...] = ()) -> list[Submission]:
    """The submissions of a class folder, symbolic links never followed.

    Layouts: nbgrader's ``[submitted/]<student>/<assignment>/*.ipynb``, or flat ``<student>.ipynb``
    files (the student is the file's stem; the assignment comes from `assignment` or the notebook);
    or one student's folder of either kind (see the module's rules).

    Args:
        root: the class folder.
        assignment: only this assignment's folders (flat notebooks are all of it).
        exclude: folders that are not students' (the output folder).
        assignments: the course's assignment ids (to recognise one student's folder).

    Returns:
        One `Submission` per student and assignment, sorted; refused ones carry their reason.
    """
    root = Path(root)
    if (root / "submitted").is_dir():
        root = root / "submitted"
    student, its_assignment = one_student(root, assignments)
    if its_assignment:
        if assignment and assignment != its_assignment:
            return []
        return _name_shared_files(_one_notebook(student, its_assignment, root))
    if student:
        return _name_shared_files(_student_folder(student, root, assignment))
    excluded = {os.path.realpath(p) for p in exclude}
    found = []
    for entry in _entries(root):
        if _junk(entry) or os.path.realpath(entry.path) in excluded:
            continue
        path = Path(entry.path)
        if entry.name.endswith(NOTEBOOK_SUFFIX) and not entry.is_dir(follow_symlinks=False):
            found.append(Submission(entry.name[:-len(NOTEBOOK_SUFFIX)], assignment, path, refusal(path)))
        elif entry.is_symlink():
            found.append(Submission(entry.name, assignment, path, _LINKED_FOLDER.format(name=entry.name)))
        elif entry.is_dir(follow_symlinks=False):
            found += _student_folder(entry.name, path, assignment)
    # hard links within the class: say whose notebook each one shares its file with
    return _name_shared_files(found)


def one_student(root: Path, assignments: tuple[str, ...]) -> tuple[str, str]:
    """Whether `root` is one student's folder rather than a class folder.

    `root` is one student's folder when it holds a folder named after an assignment of the course,
    and one student's assignment folder when it is named after an assignment and holds
    `<assignment>.ipynb` (the student is then its parent folder's name).

    Returns:
        (student, assignment): ("", "") for a class folder; (student, "") for a student's folder.
    """
    known = set(assignments)
    name = root.resolve().name
    if name in known and (root / f"{name}{NOTEBOOK_SUFFIX}").is_file():
        return root.resolve().parent.name, name
    if any(e.name in known and e.is_dir(follow_symlinks=False) for e in _entries(root)):
        return name, ""
    return "", ""


def _junk(entry: os.DirEntry) -> bool:
    """What a notebook server or a Mac's zip leaves beside the work: never a student, assignment or notebook."""
    return entry.name in JUNK_FOLDERS or entry.name.startswith(APPLE_DOUBLE)


def _entries(folder: Path) -> list[os.DirEntry]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        return []


_LINKED_FOLDER = ("the folder {name} is a symbolic link, not a folder: it was not graded. "
                  "Submit your notebook in a folder of your own.")


def _student_folder(student: str, folder: Path, assignment: str | None) -> list[Submission]:
    found = []
    for entry in _entries(folder):
        if (assignment and entry.name != assignment) or _junk(entry):
            continue
        path = Path(entry.path)
        if entry.is_symlink():
            found.append(Submission(student, entry.name, path, _LINKED_FOLDER.format(name=entry.name)))
        elif entry.is_dir(follow_symlinks=False):
            found += _one_notebook(student, entry.name, path)
    return found


def _one_notebook(student: str, assignment: str, folder: Path) -> list[Submission]:
    """The notebook graded for one student's assignment folder (see the module's rules)."""
    names = [e.name for e in _entries(folder) if e.name.endswith(NOTEBOOK_SUFFIX) and not _junk(e)]
    if not names:
        return []
    expected = f"{assignment}{NOTEBOOK_SUFFIX}"
    if len(names) == 1:
        chosen, note = names[0], ""
    elif expected in names:
        chosen = expected
        note = f"Only {expected} was graded; also found, not graded: {', '.join(n for n in names if n != expected)}."
    else:
        return [Submission(student, assignment, folder / names[0],
                           f"found {len(names)} notebooks ({', '.join(names)}) and none named {expected}: none "
                           f"was graded. Submit one notebook, named {expected}.", folder=folder)]
    path = folder / chosen
    return [Submission(student, assignment, path, refusal(path), note, folder=folder)]


def refusal(path: Path, links: int = 1) -> str:
    """Why the file at `path` must not be graded as a student's own work ("" if it may be).
    `links`: how many names of the file are known to be submissions of the class.

    Checked without following a symbolic link; called again just before grading, in case the file
    changed after the class folder was read.
    """
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"{path.name} cannot be read ({exc.strerror}): it was not graded."
    if stat.S_ISLNK(info.st_mode):
        return (f"{path.name} is a symbolic link, not a notebook file: it was not graded. "
                "Submit the notebook file itself.")
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file: it was not graded. Submit the notebook file itself."
    if info.st_nlink > max(links, 1):
        return (f"{path.name} is a hard link ({info.st_nlink} names for one file, one of which lies outside the "
                "class folder and may be the instructor's notebook): it was not graded. Submit a copy of your own.")
    return ""


def _name_shared_files(found: list[Submission]) -> list[Submission]:
    """Add to each hard link's refusal the other students whose submission is the same file."""
    sharing: dict[tuple[int, int], list[str]] = {}
    keys = {}
    for submission in found:
        try:
            info = os.lstat(submission.path)
        except OSError:
            continue
        if stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            keys[id(submission)] = (info.st_dev, info.st_ino)
            sharing.setdefault(keys[id(submission)], []).append(submission.student)
    result = []
    for submission in found:
        names = sharing.get(keys.get(id(submission)), [])
        others = [s for s in names if s != submission.student]
        if others and not refusal(submission.path, links=len(names)):
            # every name of the file is in the class: graded for each, and each result says so
            submission = replace(submission, refused="", links=len(names), note=" ".join(filter(None, (
                submission.note, f"This notebook is the same file (a hard link) as the submission of "
                                 f"{', '.join(others)}: the instructor should look at both."))))
        elif others and submission.refused:
            submission = replace(submission, refused=f"{submission.refused} It is the same file as the "
                                                     f"submission of {', '.join(others)}.")
        result.append(submission)
    return result
