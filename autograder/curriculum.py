"""The curriculum contract (docs/curriculum.md), read into one `Contract` per graded name.

docs/curriculum.md is written for people: per assignment a section ``## <aid>: <title>`` with a
table ``| name | `signature` | meaning |``, or (for a class) a ``python`` code block of its
``class`` line and method headers. This module reads that text as it is, so the document stays
the one source of the names and signatures, and `disagreements` compares it with course.yaml,
solutions/ and the notebooks.
"""
from __future__ import annotations

import ast
import importlib.util
import inspect
import re
from dataclasses import dataclass, field
from pathlib import Path

from . import registry
from .config import COURSE_ROOT, Course, load_course

_SECTION = re.compile(r"^## (?P<aid>a\d\d_\w+): (?P<title>.+)$")
# `\|` inside the meaning is an escaped pipe (|z|); the row ends at the last unescaped one.
_ROW = re.compile(r"^\|\s*(?P<name>\w+)\s*\|\s*`(?P<signature>[^`]+)`\s*\|\s*(?P<meaning>.*?)\s*(?<!\\)\|\s*$")
_CLASS = re.compile(r"^class (?P<name>\w+)\s*:")
_METHOD = re.compile(r"^\s+def (?P<name>\w+)\((?P<params>.*?)\)\s*:")


class CurriculumError(ValueError):
    """docs/curriculum.md cannot be read as the contract."""


@dataclass(frozen=True)
class Contract:
    """One graded function or class as the curriculum fixes it.

    Attributes:
        assignment: the assignment id of its section.
        name: the function or class name.
        signature: how it is called, e.g. ``sigmoid(z)`` or ``NumpyMLP(layer_sizes, ...)``.
        meaning: what it computes (the table's third column; for a class, the paragraph after it).
        line: its line in docs/curriculum.md.
        methods: for a class, method name -> its call without self (``forward(X, training=False)``).
    """

    assignment: str
    name: str
    signature: str
    meaning: str
    line: int
    methods: dict[str, str] = field(default_factory=dict)


def read_contracts(path: str | Path = registry.CURRICULUM_FILE) -> list[Contract]:
    """Every contract of the curriculum, in the document's order.

    Args:
        path: the curriculum document; docs/curriculum.md by default.

    Returns:
        One `Contract` per table row and per class block.

    Raises:
        CurriculumError: the file is missing, or a table row or class block sits outside an
            assignment's section.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CurriculumError(f"Cannot read the curriculum {path}: {exc.strerror}.") from None
    contracts: list[Contract] = []
    section = None
    in_code = False
    for number, text in enumerate(lines, start=1):
        if text.startswith("```"):
            in_code = not in_code
            continue
        heading = _SECTION.match(text)
        if heading and not in_code:
            section = heading["aid"]
            continue
        row = _ROW.match(text) if not in_code else None
        if row and row["name"] != "name" and not set(row["name"]) <= {"-"}:
            contracts.append(Contract(_section(section, path, number), row["name"], row["signature"],
                                      row["meaning"].replace("\\|", "|"), number))
        elif in_code and _CLASS.match(text):
            contracts.append(_class_contract(lines, number, _section(section, path, number)))
    return contracts


def _section(section: str | None, path: Path, number: int) -> str:
    if section is None:
        raise CurriculumError(f"{path}:{number}: a contract before any '## <assignment id>: <title>' section. "
                              "Expected every table and class block under its assignment's heading.")
    return section


def _class_contract(lines: list[str], number: int, assignment: str) -> Contract:
    """A class block: its `def` lines up to the closing fence, then the paragraph after it."""
    name = _CLASS.match(lines[number - 1])["name"]
    methods = {}
    end = number
    while end < len(lines) and not lines[end].startswith("```"):
        method = _METHOD.match(lines[end])
        if method:
            params = [p.strip() for p in method["params"].split(",") if p.strip() and p.strip() != "self"]
            methods[method["name"]] = f"{method['name']}({', '.join(params)})"
        end += 1
    paragraph = []
    for text in lines[end + 1:]:
        if not text.strip() or text.startswith("#"):
            break
        paragraph.append(text.strip())
    init = methods.pop("__init__", "__init__()")
    return Contract(assignment, name, name + init[len("__init__"):], " ".join(paragraph), number, methods)


def canonical(signature: str) -> str:
    """A call's signature in one spelling (``lr=1e-3`` and ``lr=0.001`` agree), for comparison.

    Raises:
        CurriculumError: the text is not a Python call signature.
    """
    try:
        tree = ast.parse(f"def {signature}: pass")
    except SyntaxError:
        raise CurriculumError(f"Expected a call signature such as 'f(x, y=1)'. Received: {signature!r}.") from None
    function = tree.body[0]
    return f"{function.name}({ast.unparse(function.args)})"


def signature_of(name: str, obj) -> str:
    """`obj`'s signature as the curriculum writes it: defaults that are functions by their name."""
    params = []
    for p in inspect.signature(obj).parameters.values():
        if p.name == "self":  # a method read from its class: the curriculum writes calls on an instance
            continue
        if p.default is inspect.Parameter.empty:
            params.append(p.name)
        else:
            default = getattr(p.default, "__name__", None) if callable(p.default) else None
            params.append(f"{p.name}={default or repr(p.default)}")
    return canonical(f"{name}({', '.join(params)})")


def _solution_module(assignment_id: str, root: Path):
    """The reference module read from `root`'s solutions/ (not imported under its package name)."""
    path = registry.solution_file(assignment_id, root)
    spec = importlib.util.spec_from_file_location(f"_contract_{assignment_id}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def disagreements(contracts: list[Contract] | None = None, course: Course | None = None,
                  root: Path = COURSE_ROOT) -> list[str]:
    """Where the curriculum, course.yaml, solutions/ and the notebooks disagree.

    Args:
        contracts: the curriculum; docs/curriculum.md under `root` by default.
        course: the course; `root`'s course.yaml by default.
        root: the repository whose solutions/, source/ and assignments/ are compared.

    Returns:
        One message per disagreement, naming both sides and their files; empty when all agree.
    """
    contracts = read_contracts(registry.curriculum_file(root)) if contracts is None else contracts
    course = load_course(registry.course_file(root)) if course is None else course
    doc = registry.relative(registry.curriculum_file(root), root)
    problems = []
    by_assignment: dict[str, list[Contract]] = {}
    for c in contracts:
        by_assignment.setdefault(c.assignment, []).append(c)
    known = [a.id for a in course.assignments]
    for aid in by_assignment.keys() - set(known):
        problems.append(f"{aid}: a section of {doc} but not an assignment of course.yaml")
    for assignment in course.assignments:
        aid = assignment.id
        described = {c.name: c for c in by_assignment.get(aid, [])}
        listed = [e.name for e in assignment.exercises]
        for name in sorted(described.keys() - set(listed)):
            problems.append(f"{aid}.{name}: in {doc}:{described[name].line} but not in course.yaml's exercises")
        for name in [n for n in listed if n not in described]:
            problems.append(f"{aid}.{name}: in course.yaml but not in {doc} (section '## {aid}: ...')")
        problems += _solution_disagreements(aid, [described[n] for n in listed if n in described], root, doc)
        for notebook in (registry.source_notebook(aid, root), registry.released_notebook(aid, root)):
            if not notebook.exists():
                continue
            ids = registry.grade_ids(notebook, solutions_only=True)
            if ids != listed:
                problems.append(f"{aid}: the solution cells of {registry.relative(notebook, root)} have grade_ids "
                                f"{ids}; course.yaml lists {listed} (same names, notebook order)")
    return problems


def _solution_disagreements(aid: str, contracts: list[Contract], root: Path, doc: str) -> list[str]:
    problems = []
    module = _solution_module(aid, root)
    path = registry.solution_file(aid, root)
    for c in contracts:
        obj = getattr(module, c.name, None)
        if obj is None:
            problems.append(f"{aid}.{c.name}: in {doc}:{c.line} but {registry.relative(path, root)} does not define it")
            continue
        where = registry.definition(path, c.name).location(root)
        expected, found = canonical(c.signature), signature_of(c.name, obj)
        if expected != found:
            problems.append(f"{aid}.{c.name}: {doc}:{c.line} says {expected}; {where} defines {found}")
        for method, call in c.methods.items():
            defined = getattr(obj, method, None)
            if defined is None:
                problems.append(f"{aid}.{c.name}.{method}: in {doc}:{c.line} but {where} does not define it")
            elif canonical(call) != signature_of(method, defined):
                problems.append(f"{aid}.{c.name}.{method}: {doc}:{c.line} says {canonical(call)}; "
                                f"{where} defines {signature_of(method, defined)}")
    return problems
