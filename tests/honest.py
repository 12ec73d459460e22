"""The honest-notebook catalogue: the perfect submission as students really hand it in.

Beside the mistake catalogues (tests/catalogue.py, tests/checks/): every entry here is a correct
notebook, re-saved by the editor students use (Colab, VS Code, JupyterLab 4: their metadata, cell
ids, nbformat minors, execution counts and stale outputs), or with what students leave in a
notebook that a Jupyter kernel runs without complaint (magics, `display`, plots, progress bars,
scratch cells that fail or ask for input, extra cells between the exercises). A kernel gives each
full marks, so every grading path must (tests/test_honest.py).

Entries are built from the bundled perfect sample (samples/<aid>/submitted/ada_perfect/), as the
JSON each editor writes (not through nbformat, which would normalise what they wrote).
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Callable

from autograder.registry import sample_notebook

# a 1x1 PNG: the stale image output an editor saved with a plot
_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
_ERROR = {"output_type": "error", "ename": "NameError", "evalue": "name 'z' is not defined",
          "traceback": ["NameError: name 'z' is not defined"]}


def perfect(assignment_id: str) -> dict:
    """The bundled perfect submission, as JSON."""
    return json.loads(sample_notebook(assignment_id, "ada_perfect").read_text(encoding="utf-8"))


def _solution_cells(notebook: dict) -> list[dict]:
    return [c for c in notebook["cells"] if c["cell_type"] == "code"
            and c.get("metadata", {}).get("nbgrader", {}).get("solution")]


_ADDED = iter(range(10**6))   # ids of the cells an entry adds (nbformat 4.5 wants one on every cell)


def _code(source: str, **metadata) -> dict:
    return {"cell_type": "code", "id": f"added-{next(_ADDED)}", "execution_count": None, "metadata": metadata,
            "outputs": [], "source": source}


def _markdown(source: str) -> dict:
    return {"cell_type": "markdown", "id": f"added-{next(_ADDED)}", "metadata": {}, "source": source}


def _executed(notebook: dict, *, error_in: int | None = None) -> None:
    """Execution counts and stale outputs on every code cell, as after a run in an editor; the code
    cell number `error_in` (if any) keeps an error output from an earlier run."""
    count = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        count += 1
        cell["execution_count"] = count
        cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["stale output\n"]}]
        if count == error_in:
            cell["outputs"].append(dict(_ERROR))
    # a plot's image, as the last cell's output
    notebook["cells"][-1].setdefault("outputs", []).append(
        {"output_type": "display_data", "metadata": {},
         "data": {"image/png": _PNG, "text/plain": ["<Figure size 640x480 with 1 Axes>"]}})


def colab(notebook: dict) -> dict:
    """Saved by Google Colab: nbformat 4.0, its "colab" and "accelerator" metadata, cell ids in the
    cells' metadata, outputs with Colab's own metadata."""
    notebook["nbformat_minor"] = 0
    kept = {k: v for k, v in notebook["metadata"].items() if k not in ("kernelspec", "language_info")}
    notebook["metadata"] = {"colab": {"provenance": [], "collapsed_sections": [], "toc_visible": True},
                            "kernelspec": {"name": "python3", "display_name": "Python 3"},
                            "language_info": {"name": "python"}, "accelerator": "GPU", "gpuClass": "standard", **kept}
    for i, cell in enumerate(notebook["cells"]):
        cell.pop("id", None)
        cell.setdefault("metadata", {})["id"] = f"c0lAb{i:05d}"
        if cell["cell_type"] == "code":
            cell["metadata"]["colab"] = {"base_uri": "https://localhost:8080/"}
            cell["metadata"]["outputId"] = f"0ut{i:05d}-aaaa-bbbb-cccc"
    _executed(notebook)
    return notebook


def vscode(notebook: dict) -> dict:
    """Saved by VS Code's Jupyter extension: nbformat 4.2, its "vscode" metadata, a venv's kernelspec,
    no cell ids."""
    notebook["nbformat_minor"] = 2
    notebook["metadata"] = {**notebook["metadata"],
                            "kernelspec": {"display_name": ".venv", "language": "python", "name": "python3"},
                            "language_info": {"codemirror_mode": {"name": "ipython", "version": 3},
                                              "file_extension": ".py", "mimetype": "text/x-python", "name": "python",
                                              "nbconvert_exporter": "python", "pygments_lexer": "ipython3",
                                              "version": "3.11.7"},
                            "vscode": {"interpreter": {"hash": "3c2b9d1f0e7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c"}}}
    for cell in notebook["cells"]:
        cell.pop("id", None)
    _executed(notebook)
    return notebook


def jupyterlab4(notebook: dict) -> dict:
    """Saved by JupyterLab 4: nbformat 4.5 with a cell id on every cell, execution counts, stale
    outputs (an error from an exploration that failed once, a plot's image)."""
    notebook["nbformat_minor"] = 5
    for i, cell in enumerate(notebook["cells"]):
        cell["id"] = f"{i:08x}-1ab4-4c0d-9e2f-{i:012x}"
    notebook["metadata"]["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                          "name": "python3"}
    _executed(notebook, error_in=2)
    return notebook


def jupyter_4_4(notebook: dict) -> dict:
    """Saved by the classic Notebook (nbformat 4.4), run once, stale outputs kept."""
    notebook["nbformat_minor"] = 4
    for cell in notebook["cells"]:
        cell.pop("id", None)
    _executed(notebook, error_in=1)
    return notebook


def magics(notebook: dict) -> dict:
    """Magics students add: `%matplotlib inline` at the top, `%%time` on the first exercise's cell,
    `%%capture` on the second, `display(...)` at the top of the third, `%timeit` and `x?` after."""
    cells = _solution_cells(notebook)
    cells[0]["source"] = "%%time\n" + "".join(cells[0]["source"])
    if len(cells) > 1:
        cells[1]["source"] = "%%capture out\n" + "".join(cells[1]["source"])
    if len(cells) > 2:
        cells[2]["source"] = "display('trying the next exercise')\n" + "".join(cells[2]["source"])
    name = _defined_name(cells[0])
    notebook["cells"].insert(0, _code("%matplotlib inline\n%load_ext autoreload\n%autoreload 2"))
    at = notebook["cells"].index(cells[0]) + 1
    notebook["cells"][at:at] = [_code(f"%timeit -n 3 -r 1 {name}\n{name}?"),
                                _code(f"print(get_ipython().__class__.__name__)\n{name}")]
    return notebook


def plots_and_progress(notebook: dict) -> dict:
    """A plot of the student's own, shown and kept open, and progress bars (tqdm.auto, tqdm.notebook)."""
    notebook["cells"].insert(1, _code(
        "import numpy as np\nimport matplotlib.pyplot as plt\nfrom tqdm.auto import tqdm\n"
        "for _ in tqdm(range(50), desc='warming up'):\n    pass\n"
        "fig, ax = plt.subplots()\nax.plot(np.linspace(-5, 5, 11), np.tanh(np.linspace(-5, 5, 11)))\n"
        "ax.set_title('my own plot')\nplt.show()"))
    notebook["cells"].append(_code(
        "from tqdm.notebook import tqdm as ntqdm\ntotal = 0\nfor i in ntqdm(range(20)):\n    total += i\n"
        "plt.figure(); plt.plot([0, 1], [1, 0]); plt.savefig('mine.png')\ndisplay(total)"))
    return notebook


def scratch(notebook: dict) -> dict:
    """Exploration left in: a cell that fails (NameError), one that asks for input(), a shell escape,
    `%pip install`, extra markdown and code cells between the exercises."""
    cells = _solution_cells(notebook)
    at = notebook["cells"].index(cells[0]) + 1
    notebook["cells"][at:at] = [
        _markdown("### my notes\nTrying things out before the next exercise."),
        _code("z_try = some_variable_i_never_defined * 2"),
        _code("name = input('What is your name? ')"),
        _code("!ls -a\n%pip install tqdm\nfiles = !ls\nprint(len(files))"),
        _code("import numpy as np\nnp.random.seed(0)\nscratch = np.random.randn(3)\nscratch"),
    ]
    return notebook


ENTRIES: dict[str, Callable[[dict], dict]] = {
    "colab": colab, "vscode": vscode, "jupyterlab4": jupyterlab4, "jupyter_4_4": jupyter_4_4,
    "magics": magics, "plots_and_progress": plots_and_progress, "scratch": scratch,
}

# Every entry on a01 (the fastest); the editors' saves and the magics on every assignment's sample
# where a test can afford it (a07 imports TensorFlow).
CATALOGUE: list[tuple[str, str]] = [*(("a01_perceptron", name) for name in ENTRIES),
                                    ("a05_sgd", "magics"), ("a05_sgd", "colab"), ("a04_backprop", "scratch")]


def _defined_name(cell: dict) -> str:
    for line in "".join(cell["source"]).splitlines():
        if line.startswith(("def ", "class ")):
            return line.split()[1].split("(")[0].rstrip(":")
    raise ValueError("Expected a def or class in the first solution cell. Received none.")


def honest_notebook(assignment_id: str, entry: str) -> dict:
    """The catalogue's `entry` made from `assignment_id`'s perfect sample, as JSON."""
    return ENTRIES[entry](copy.deepcopy(perfect(assignment_id)))


def write_entry(folder: Path, assignment_id: str, entry: str) -> Path:
    """Write the entry as <folder>/<aid>.ipynb, as the editor would (its JSON, one space indent)."""
    path = Path(folder) / f"{assignment_id}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(honest_notebook(assignment_id, entry), indent=1, ensure_ascii=False) + "\n",
                    encoding="utf-8")
    return path
