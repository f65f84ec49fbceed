"""Release and grade the real curriculum (whatever notebooks/ holds today): the solution earns every point."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from labkit.grading import grade, release
from labkit.grading.notebook import read, steps

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.mark.slow
def test_release_and_grade_the_real_notebooks(tmp_path: Path) -> None:
    keys = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert keys, "notebooks/ has no notebooks"
    released = release(NOTEBOOKS, tmp_path / "release")
    assert [p.name for p in released] == [p.name for p in keys]
    assert [p.read_bytes() for p in release(NOTEBOOKS, tmp_path / "release")] == [p.read_bytes() for p in released]

    for learner, notebooks in (("solution", keys), ("student", released)):
        # the instructor's own notebooks handed in as a learner's, and untouched student copies
        (tmp_path / "submitted" / learner).mkdir(parents=True)
        for nb in notebooks:
            shutil.copy(nb, tmp_path / "submitted" / learner / nb.name)

    book = grade([tmp_path / "submitted"], NOTEBOOKS, tmp_path / "out", timeout=120, workers=2)

    assert book.row("solution")["total"] == book.max_total
    checks = [s.check for key in keys for s in steps(read(key))]
    assert [c.split("#")[0] for c in book.columns] == checks
    assert book.row("student")["total"] < book.max_total
    assert (tmp_path / "out" / "feedback" / "student.html").exists()
    for key in keys:
        if not steps(read(key)):  # a notebook without steps runs clean for everyone
            for learner in ("solution", "student"):
                nb = json.loads((tmp_path / "out" / "executed" / learner / key.name).read_text())
                errors = [
                    o for c in nb["cells"] if "raises-exception" not in c["metadata"].get("tags", [])
                    for o in c.get("outputs", []) if o["output_type"] == "error"
                ]
                assert errors == [], (learner, key.name)
