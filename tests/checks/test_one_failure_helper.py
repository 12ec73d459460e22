"""Every check states its failure's parts as fields (`kit.fail(called=, expected=, received=,
mistake=, hint=)`): a message formatted by hand would render, but its mistake would never reach
the class summary, which counts the `mistake` field."""
import ast

import pytest

from autograder.engine import CHECKS_DIR

LABELS = ("Called: ", "Expected: ", "Received: ", "Likely mistake: ", "Mistake: ")


def _strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


@pytest.mark.parametrize("path", sorted(CHECKS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_check_formats_a_failure_by_hand(path):
    """Does no string in the checks carry a field's label ("Called: ", "Likely mistake: ", ...)?"""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = [(line, text[:60]) for line, text in _strings(tree)
             if any(text.startswith(label) or f"\n{label}" in text for label in LABELS)
             and not (path.name == "kit.py")]
    assert found == [], f"{path.name}: pass these as kit.fail's fields instead: {found}"
