"""The package as `pip install .` builds it (a wheel), not only as this checkout runs it."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_carries_every_file_grading_reads(tmp_path):
    """Does the wheel hold every tracked file of the package that is not Python code (the reference
    timing, Keras' recorded results, pytest.ini of the checks, the feedback page's template)?"""
    tracked = subprocess.run(["git", "ls-files", "autograder", "solutions"], cwd=ROOT, capture_output=True,
                             text=True, check=True).stdout.split()
    data = sorted(name for name in tracked if not name.endswith(".py"))
    assert "autograder/reference_timing.json" in data and "autograder/checks/recorded/a07_keras_equivalence.json" in data
    source = tmp_path / "source"   # the tracked files only: setuptools' build/ folder here may hold older files
    for name in subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split():
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--quiet",
                    "--disable-pip-version-check", "-w", str(tmp_path / "wheel")], check=True, capture_output=True)
    [wheel] = (tmp_path / "wheel").glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert [name for name in data if name not in names] == []
