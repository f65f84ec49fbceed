"""A check cell must be able to fail: run each notebook with its `fix` cells removed.

For every notebook with `check` cells, the notebook is executed once (nbclient, a
fresh kernel, cwd `notebooks/`) without its fix cells, errors allowed. Then every
check cell must have failed with `CheckFailed` — the check's own title and a
hint — except the checks of a property the lab has without any step (no open
relay), which must still pass. A check cell with no fix cell anywhere before it
would be a check nobody can make fail, so that is an error too. The fix cells are
what a student copy leaves out, so this is also what a student who skipped the
steps sees.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from labkit.checks import CHECKS

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
CHECK_SOURCE = re.compile(r'^lab\.check\("([a-z-]+)"\)$')
CELL_TIMEOUT = 120  # seconds per cell; a cell of the curriculum takes well under one


def _tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def _curriculum() -> list[Path]:
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))
    return [p for p in paths if any("check" in _tags(c) for c in nbformat.read(p, as_version=4).cells)]


#: Checks of what the lab does right without any step: they pass with the fix cells removed.
NEEDS_NO_FIX = {"no-open-relay"}


def expectations(cells: list[nbformat.NotebookNode]) -> list[tuple[int, str, bool]]:
    """(position, check name, whether it must fail) for each check cell.

    The position is the cell's index once the fix cells are removed.
    """
    result = []
    fixes_seen = 0
    position = 0
    for cell in cells:
        tags = _tags(cell)
        if "fix" in tags:
            assert cell.cell_type == "code", "a fix cell must be a code cell"
            fixes_seen += 1
            continue  # removed before execution: takes no position
        if "check" in tags:
            match = CHECK_SOURCE.match(cell.source.strip())
            assert match, f'a check cell holds only lab.check("name"), not {cell.source!r}'
            name = match.group(1)
            assert name in CHECKS, f"unknown check {name!r}"
            must_fail = name not in NEEDS_NO_FIX
            assert fixes_seen or not must_fail, f"check {name!r} has no fix cell before it"
            result.append((position, name, must_fail))
        position += 1
    return result


@pytest.mark.slow
@pytest.mark.parametrize("path", _curriculum(), ids=lambda p: p.stem)
def test_checks_fail_without_their_fix(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    expected = expectations(nb.cells)
    nb.cells = [c for c in nb.cells if "fix" not in _tags(c)]
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()

    problems = []
    for index, name, must_fail in expected:
        outputs = nb.cells[index].get("outputs", [])
        errors = [o for o in outputs if o.get("output_type") == "error"]
        if must_fail:
            prefix = f"✘ {CHECKS[name].title} — not yet. Hint: "
            if not errors:
                problems.append(f"check {name!r} (cell {index}) passed although its fix cells were removed")
            elif errors[0]["ename"] != "CheckFailed" or not errors[0]["evalue"].startswith(prefix):
                problems.append(f"check {name!r} (cell {index}) failed without its hint: {errors[0]['ename']}: {errors[0]['evalue']}")
            elif not errors[0]["evalue"][len(prefix):].strip():
                problems.append(f"check {name!r} (cell {index}) failed with an empty hint")
        elif errors:
            problems.append(f"check {name!r} (cell {index}) needs no fix but failed: {errors[0]['ename']}: {errors[0]['evalue']}")
    assert not problems, "\n".join(problems)
