"""docs/curriculum.md, the contract of names and signatures, agrees with course.yaml, solutions/ and the notebooks."""
import dataclasses
import json
import shutil

import pytest

from autograder import registry
from autograder.config import COURSE_ROOT, load_course
from autograder.curriculum import Contract, CurriculumError, canonical, disagreements, read_contracts

COURSE = load_course()
CONTRACTS = read_contracts()


def changed(name: str, **fields) -> list[Contract]:
    """The curriculum with one contract's fields replaced."""
    return [dataclasses.replace(c, **fields) if c.name == name else c for c in CONTRACTS]


def test_curriculum_agrees_with_course_solutions_and_notebooks():
    """Do the curriculum, course.yaml, the references' signatures and the notebooks' solution cells agree?"""
    problems = disagreements()
    assert not problems, "\n".join(problems)


def test_curriculum_is_read_whole():
    """Is every table row and the class block read, with its signature, meaning and line?"""
    assert len(CONTRACTS) == sum(len(a.exercises) for a in COURSE.assignments)
    sigmoid = next(c for c in CONTRACTS if c.name == "sigmoid")
    text = registry.CURRICULUM_FILE.read_text(encoding="utf-8").splitlines()
    assert "`sigmoid(z)`" in text[sigmoid.line - 1]
    assert "stable for |z| up to 1e4" in sigmoid.meaning  # the escaped pipes are unescaped
    mlp = next(c for c in CONTRACTS if c.name == "NumpyMLP")
    assert mlp.signature == "NumpyMLP(layer_sizes, activations, dropout_rate=0.0, seed=None)"
    assert mlp.methods["fit"] == "fit(X, y, epochs, batch_size, lr, shuffle=False)"
    assert canonical("f(lr=1e-3)") == canonical("f(lr=0.001)")


def test_a_changed_signature_is_named():
    """Does a parameter renamed in the curriculum get a message naming both files, lines and signatures?"""
    line = next(c for c in CONTRACTS if c.name == "sigmoid").line
    reference = registry.definition(registry.solution_file("a01_perceptron"), "sigmoid").line
    (problem,) = disagreements(changed("sigmoid", signature="sigmoid(x)"))
    assert problem == (f"a01_perceptron.sigmoid: docs/curriculum.md:{line} says sigmoid(x); "
                       f"solutions/a01_perceptron.py:{reference} defines sigmoid(z)")


def test_a_changed_default_and_method_are_named():
    """Does a default or a class method that differs from the reference get named?"""
    mlp = next(c for c in CONTRACTS if c.name == "NumpyMLP")
    problems = disagreements(changed("adam_update", signature="adam_update(weights, grads, state, lr=1e-2, "
                                                             "beta_1=0.9, beta_2=0.999, epsilon=1e-7)"))
    assert len(problems) == 1 and "lr=0.01" in problems[0] and "lr=0.001" in problems[0]
    (problem,) = disagreements(changed("NumpyMLP", methods={**mlp.methods, "fit": "fit(X, y, epochs)"}))
    assert problem.startswith("a07_keras_equivalence.NumpyMLP.fit:") and "fit(X, y, epochs, batch_size" in problem


def test_an_exercise_missing_from_course_yaml_is_named():
    """Does an exercise the curriculum has but course.yaml lacks get named, with the notebooks that still have it?"""
    a05 = COURSE.assignment("a05_sgd")
    fewer = dataclasses.replace(a05, exercises=tuple(e for e in a05.exercises if e.name != "adam_init"))
    course = dataclasses.replace(COURSE, assignments=tuple(fewer if a.id == "a05_sgd" else a for a in COURSE.assignments))
    problems = disagreements(course=course)
    assert any(p.startswith("a05_sgd.adam_init: in docs/curriculum.md:") and "not in course.yaml" in p for p in problems)
    assert any("source/a05_sgd/a05_sgd.ipynb have grade_ids" in p for p in problems), problems


def test_a_notebook_solution_cell_misnamed_is_named(tmp_path):
    """Does a source notebook whose solution cell's grade_id differs from course.yaml get named?"""
    aid = "a01_perceptron"
    for path in (registry.curriculum_file(), registry.solution_file(aid), registry.source_notebook(aid)):
        target = tmp_path / path.relative_to(COURSE_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target)
    notebook_path = registry.source_notebook(aid, tmp_path)
    notebook = json.loads(notebook_path.read_text(encoding="utf-8"))
    cell = next(c for c in notebook["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "relu")
    cell["metadata"]["nbgrader"]["grade_id"] = "ReLU"
    notebook_path.write_text(json.dumps(notebook), encoding="utf-8")
    course = dataclasses.replace(COURSE, assignments=(COURSE.assignment(aid),))
    contracts = [c for c in CONTRACTS if c.assignment == aid]
    (problem,) = disagreements(contracts, course, root=tmp_path)
    assert problem.startswith(f"{aid}: the solution cells of source/{aid}/{aid}.ipynb have grade_ids")
    assert "'ReLU'" in problem and "'relu'" in problem


def test_a_contract_outside_a_section_is_refused(tmp_path):
    """Is a table row before any assignment heading refused with its line and the expected layout?"""
    doc = tmp_path / "curriculum.md"
    doc.write_text("# Curriculum\n\n| name | signature | meaning |\n| --- | --- | --- |\n| f | `f(x)` | x |\n")
    with pytest.raises(CurriculumError, match=r"curriculum\.md:5: .*Expected every table"):
        read_contracts(doc)
