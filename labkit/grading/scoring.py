"""From cell records to points: each check cell that ran clean earns its check's points.

Pure functions over the records of a grading run (`labkit.grading.runner`), so the
rules can be read in one place:

- a check cell that ran without an error earns ``CHECKS[name].points``;
- a check cell that raised ``CheckFailed`` earns 0, and its hint is the reason;
- any other error, a timeout, a dead kernel, or a cell never reached earns 0 with that reason;
- a step whose answer cell timed out or crashed the kernel earns 0 even if its check passes
  afterwards (what the cell did before it was stopped is not the learner's finished work).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode

from labkit.checks import CHECKS
from labkit.grading.notebook import Step, node
from labkit.grading.plugin import KERNEL_DIED
from labkit.grading.rebuild import Rebuilt
from labkit.grading.runner import CellRecord, NotebookRun

KERNEL_DEAD = "Kernel dead on test start"


@dataclass
class StepResult:
    """The grade of one check (one check cell of a key notebook) for one learner."""

    item: str  # the grade column (see `labkit.grading.notebook.name_items`)
    check: str
    title: str
    points: int
    passed: bool
    reason: str  # the hint or why it earned nothing; what was verified when it passed
    notebook: str
    notes: list[str] = field(default_factory=list)

    @property
    def earned(self) -> int:
        """The points this check earned."""
        return self.points if self.passed else 0


def zero(step: Step, notebook: str, reason: str) -> StepResult:
    """A step that earns nothing, for `reason`."""
    spec = CHECKS[step.check]
    return StepResult(step.item, step.check, spec.title, spec.points, False, reason, notebook)


def code_indexes(nb: NotebookNode) -> dict[int, int]:
    """Cell index -> index among code cells (how nbval numbers its cells)."""
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    return {cell: n for n, cell in enumerate(code)}


def _why_failed(record: CellRecord, timeout: float, what: str) -> str:
    error = record.error
    if record.timed_out:
        return f"{what} ran longer than {timeout:g} s and was stopped (an endless loop, or a wait that never ends?)"
    if KERNEL_DIED in record.message:
        return f"the kernel crashed while running {what}"
    if KERNEL_DEAD in record.message:
        return (
            f"{what} was not run: the kernel had stopped earlier (a crash, or a cell that would not stop after its timeout)"
        )
    if error is not None:
        if error.get("ename") == "CheckFailed":
            evalue = str(error.get("evalue", ""))
            return evalue.split("Hint: ", 1)[1] if "Hint: " in evalue else evalue
        return f"{what} raised {error.get('ename')}: {error.get('evalue')}"
    if record.outcome == "skipped":
        return f"{what} was skipped"
    first = record.message.strip().splitlines()[0] if record.message.strip() else record.outcome
    return f"{what} failed: {first}"


def _shown(record: CellRecord, title: str) -> str:
    """What the check verified, from the ✔ line its result printed (``✔ <title>: <detail> (2/2 points)``)."""
    for output in record.outputs:
        text = output.get("data", {}).get("text/plain") if output.get("output_type") == "execute_result" else None
        if text:
            line = str(text).strip()
            line = line.removeprefix(f"✔ {title}: ")
            return re.sub(r" \(\d+/\d+ points\)$", "", line)
    return "passed"


def score(
    steps: list[Step], rebuilt: Rebuilt, run: NotebookRun, notebook: str, timeout: float
) -> list[StepResult]:
    """Grade every step of one rebuilt notebook from its run's records."""
    index = code_indexes(rebuilt.nb)
    results = []
    for step in steps:
        spec = CHECKS[step.check]
        notes: list[str] = []
        stopped = ""
        for fix in step.fix_indexes:
            if fix in rebuilt.missing:
                notes.append("Your answer cell for this step is missing (deleted?); the step was graded without it.")
            if fix in rebuilt.flagged:
                notes.append("Your answer uses labkit's checks themselves: flagged for the instructor to review.")
            record = run.records.get(index[fix])
            if record is None or record.outcome == "passed":
                continue
            why = _why_failed(record, timeout, "your answer cell")
            if record.timed_out or KERNEL_DIED in record.message:
                stopped = why
            else:
                notes.append(why[0].upper() + why[1:] + ".")
        record = run.records.get(index[step.check_index])
        if record is None:
            result = zero(step, notebook, "the check was not run: the grading run ended before it (see pytest.log)")
        elif stopped:
            result = zero(step, notebook, stopped)
        elif record.outcome == "passed" and record.error is None:
            result = StepResult(step.item, step.check, spec.title, spec.points, True, _shown(record, spec.title), notebook)
        else:
            result = zero(step, notebook, _why_failed(record, timeout, "the check cell"))
        result.notes = notes
        results.append(result)
    return results


def executed(rebuilt: Rebuilt, run: NotebookRun) -> NotebookNode:
    """The rebuilt notebook with the outputs the grading run produced."""
    nb = copy.deepcopy(rebuilt.nb)
    count = 0
    for cell_index, code_index in code_indexes(nb).items():
        record = run.records.get(code_index)
        if record is None or record.outcome == "skipped":
            continue
        count += 1
        cell = nb.cells[cell_index]
        cell.execution_count = count
        cell.outputs = []
        for output in record.outputs:
            out = node(dict(output))
            if out.get("output_type") == "execute_result":
                out["execution_count"] = count
            if out.get("output_type") in ("execute_result", "display_data"):
                out.setdefault("metadata", {})
            cell.outputs.append(out)
    return nb
