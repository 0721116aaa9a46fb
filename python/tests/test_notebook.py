"""Runs the example notebook's code cells (examples/python_notebook.md, MyST format) in order,
as a script, so the notebook cannot drift from the API."""

import re
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "python_notebook.md"


def test_example_notebook_runs(monkeypatch, tmp_path):
    assert NOTEBOOK.exists(), f"the example notebook is missing: {NOTEBOOK}"
    cells = re.findall(r"```\{code-cell\}[^\n]*\n(.*?)```", NOTEBOOK.read_text(), re.S)
    assert len(cells) >= 5, "the notebook's code cells were not found"
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__notebook__"}
    for i, cell in enumerate(cells):
        exec(compile(cell, f"{NOTEBOOK.name} cell {i}", "exec"), namespace)
    assert namespace["small"].shape == (24, 24, 24)
