"""The package's layers (docs/architecture.md): kept by import-linter, counting imports inside functions."""
import subprocess
import sys
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[1]


def test_imports_keep_the_layers_and_make_no_cycle():
    """Do the imports run one way only, with no cycle in any package (import-linter's contracts)?"""
    lint = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint), "--config", str(ROOT / ".importlinter"), "--no-cache"], cwd=ROOT,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "Contracts: 6 kept, 0 broken." in run.stdout


def test_every_module_is_in_a_layer():
    """Is every module of the package named in the layers contract (a new module must choose its layer)?"""
    config = (ROOT / ".importlinter").read_text(encoding="utf-8")
    graph = grimp.build_graph("autograder", cache_dir=None)
    top = {".".join(m.split(".")[:2]) for m in graph.modules if m != "autograder"}
    missing = sorted(m for m in top if m not in config)
    assert not missing, f"modules in no layer of .importlinter: {missing}"


def test_no_private_name_is_imported_across_modules():
    """Does no module import another module's underscore name (`from .grade_all import _zero`)?"""
    graph = grimp.build_graph("autograder", cache_dir=None)
    found = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            for detail in graph.get_import_details(importer=importer, imported=imported):
                imported_part = detail["line_contents"].split("#")[0].split(" import ", 1)[-1]
                # the names imported, not the names they are bound to here (`x as _x` is this module's own)
                names = [n.split()[0] for n in imported_part.replace("(", "").replace(")", "").split(",") if n.strip()]
                if any(n.startswith("_") and not n.startswith("__") for n in names):
                    found.append(f"{importer}:{detail['line_number']}: {detail['line_contents']}")
    assert not found, "\n".join(found)
