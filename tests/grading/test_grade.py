"""Grading a small class for real: nbval executes each rebuilt submission in its own kernel, two at a time.

One grading run (module fixture) over learners who each show one case of the issue:
complete work, a step left undone, a tampered check, an endless loop, a corrupt file,
a deleted answer cell, a notebook without cell ids, a crashed kernel.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from nbformat.notebooknode import NotebookNode

from labkit.checks import CHECKS
from labkit.grading import GradeBook, Progress, grade
from tests.grading.conftest import (
    ANSWERS,
    CHECK_NAMES,
    FIX_MX,
    FULL,
    NAME,
    SCRATCH_READ,
    corrupt,
    fix_cells,
    make_key,
    make_submission,
    strip_ids,
)

TIMEOUT = 8.0
#: An endless loop that ignores the interrupt nbval sends at the timeout.
STUBBORN = "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"


def tamper(nb: NotebookNode) -> None:
    """Replace step 3's check with a print, and delete step 1's check cell."""
    for cell in list(nb.cells):
        if cell.source == 'lab.check("send-connector")':
            cell.source = 'print("ok")'
        elif cell.source == 'lab.check("a-records")':
            nb.cells.remove(cell)


def delete_first_answer(nb: NotebookNode) -> None:
    nb.cells.remove(fix_cells(nb)[0])


def add_scratch_cell(nb: NotebookNode) -> None:
    """A learner's extra cell under the step-3 answer: it runs as part of the answer."""
    index = nb.cells.index(fix_cells(nb)[2])
    extra = NotebookNode(cell_type="code", id="learner-extra", metadata={}, outputs=[], execution_count=None)
    extra.source = 'lab.server("mail.contoso.com").get_send_connector()'
    nb.cells.insert(index + 1, extra)


LEARNERS = {
    "alice": {},
    "bob": {"edit": add_scratch_cell},
    "carol": {"answers": [ANSWERS[0], ANSWERS[1], None, ANSWERS[3]]},
    "dave": {"answers": [ANSWERS[0], ANSWERS[1], None, ANSWERS[3]], "edit": tamper},
    "erin": {"answers": [ANSWERS[0], FIX_MX.strip() + "\nwhile True:\n    pass", ANSWERS[2], ANSWERS[3]]},
    "grace": {"edit": delete_first_answer},
    "heidi": {"edit": strip_ids},
    "ivan": {"answers": [ANSWERS[0], ANSWERS[1], "import os\nos._exit(1)", ANSWERS[3]]},
    "judy": {"answers": [ANSWERS[0], ANSWERS[1], STUBBORN, ANSWERS[3]]},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[GradeBook, Path, list[Progress]]:
    base = tmp_path_factory.mktemp("class")
    key_dir = make_key(base / "key")
    for name, how in LEARNERS.items():
        make_submission(base, key_dir, name, **how)  # type: ignore[arg-type]
    corrupt(base, "frank")
    events: list[Progress] = []
    book = grade([base / "submitted"], key_dir, base / "out", timeout=TIMEOUT, workers=2, progress=events.append)
    return book, base / "out", events


def row(graded: tuple[GradeBook, Path, list[Progress]], learner: str) -> dict[str, str]:
    with (graded[1] / "grades.csv").open() as f:
        return next(r for r in csv.DictReader(f) if r["learner"] == learner)


def feedback(graded: tuple[GradeBook, Path, list[Progress]], learner: str) -> str:
    return (graded[1] / "feedback" / f"{learner}.html").read_text()


def test_grades_csv_has_a_row_per_learner_a_column_per_check_and_a_total(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    with (graded[1] / "grades.csv").open() as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    assert reader.fieldnames == ["learner", *CHECK_NAMES, "total", "notes"]
    assert [r["learner"] for r in rows] == sorted([*LEARNERS, "frank"])
    for r in rows:
        assert int(r["total"]) == sum(int(r[c]) for c in CHECK_NAMES)
    assert (graded[1] / "index.html").exists()


def test_complete_work_gets_full_marks(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    for learner in ("alice", "bob", "heidi"):  # bob added a cell; heidi's notebook lost its cell ids
        r = row(graded, learner)
        assert {c: int(r[c]) for c in CHECK_NAMES} == {c: CHECKS[c].points for c in CHECK_NAMES}, learner
        assert int(r["total"]) == FULL
    assert "✔" in feedback(graded, "alice") and "✘" not in feedback(graded, "alice")


def test_step_left_undone_loses_that_step_and_what_depends_on_it_with_the_hint(
    graded: tuple[GradeBook, Path, list[Progress]],
) -> None:
    r = row(graded, "carol")
    assert int(r["send-connector"]) == 0 and int(r["mail-delivered"]) == 0
    assert int(r["total"]) == FULL - CHECKS["send-connector"].points - CHECKS["mail-delivered"].points
    page = feedback(graded, "carol")
    assert "has no send connector for xutonglin.com" in page
    assert "new_send_connector(&quot;Internet&quot;" in page  # the hint says what to type


def test_tampered_or_deleted_check_cells_are_graded_by_the_real_checks(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    r = row(graded, "dave")
    assert int(r["a-records"]) == CHECKS["a-records"].points  # deleted check cell: the key's ran
    assert int(r["send-connector"]) == 0  # print("ok") did not help
    assert "check cell was edited" in r["notes"]
    executed = json.loads((graded[1] / "executed" / "dave" / NAME).read_text())
    assert not any("print(\"ok\")" in "".join(c["source"]) for c in executed["cells"])


def test_endless_loop_times_out_scores_zero_for_its_step_and_the_rest_is_graded(
    graded: tuple[GradeBook, Path, list[Progress]],
) -> None:
    r = row(graded, "erin")
    assert int(r["mx-records"]) == 0
    assert int(r["total"]) == FULL - CHECKS["mx-records"].points
    assert f"ran longer than {TIMEOUT:g} s" in graded[0]["erin"].results["mx-records"].reason


def test_corrupt_file_is_reported_not_fatal(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    r = row(graded, "frank")
    assert int(r["total"]) == 0
    assert "not a valid notebook" in r["notes"] and "not JSON" in r["notes"]
    assert "not a valid notebook" in feedback(graded, "frank")


def test_missing_answer_cell_scores_zero_with_a_reason(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    result = graded[0]["grace"].results["a-records"]
    assert result.earned == 0
    assert any("answer cell for this step is missing" in n for n in result.notes)
    assert "answer cell for this step is missing" in feedback(graded, "grace")


def test_kernel_crash_zeroes_the_rest_quickly_and_the_run_goes_on(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    results = graded[0]["ivan"].results
    assert results["a-records"].passed and results["mx-records"].passed
    assert "kernel crashed" in results["send-connector"].reason
    assert "kernel had stopped" in results["anonymous-receive"].reason
    assert row(graded, "ivan")["total"] == str(CHECKS["a-records"].points + CHECKS["mx-records"].points)


def test_parallel_submissions_share_no_files_or_ports(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    assert "created: 2/2 workers" in (graded[1] / "pytest.log").read_text()
    pids = set()
    for learner in ("alice", "bob", "heidi"):
        executed = json.loads((graded[1] / "executed" / learner / NAME).read_text())
        errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o["output_type"] == "error"]
        assert errors == [], learner
        [scratch] = [c for c in executed["cells"] if "".join(c["source"]) == SCRATCH_READ]
        pids.add("".join(scratch["outputs"][0]["data"]["text/plain"]))
    assert len(pids) == 3  # three kernels, each read back its own file


def test_progress_reports_every_submission_once(graded: tuple[GradeBook, Path, list[Progress]]) -> None:
    events = graded[2]
    assert [e.done for e in events] == list(range(1, len(LEARNERS) + 2))
    assert sorted(e.learner for e in events) == sorted([*LEARNERS, "frank"])
    assert next(e for e in events if e.learner == "frank").problem


def test_loop_that_ignores_the_interrupt_stops_the_kernel_and_zeroes_the_rest(
    graded: tuple[GradeBook, Path, list[Progress]],
) -> None:
    results = graded[0]["judy"].results
    assert results["a-records"].passed and results["mx-records"].passed
    assert f"ran longer than {TIMEOUT:g} s" in results["send-connector"].reason
    assert "kernel had stopped" in results["mail-delivered"].reason
