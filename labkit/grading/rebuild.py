"""Put a learner's answers back into the instructor's notebook, so only the answers are theirs.

The rebuilt notebook is the key notebook cell for cell — its text, its check cells,
every cell not tagged ``fix`` — with each ``fix`` cell's source replaced by the
learner's answer. Answers are found by cell id (release keeps the ids); cells
whose id did not survive are matched by the order of ``fix``-tagged cells; code
cells a learner added right after an answer cell count as part of that answer.
A deleted or edited check cell therefore changes nothing: the key's runs.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

from nbformat.notebooknode import NotebookNode

from labkit.grading.notebook import CHECK, NBVAL_BYPASS, cell_id, check_name, is_fix, tags
from labkit.grading.release import prompt_for

#: Answer code that reaches into the checks themselves: graded as usual, but flagged for a human look.
_TAMPER = re.compile(r"labkit\.checks|\bCHECKS\b|\brun_check\b|\bevaluate\s*\(|\.check\s*=|_check_\w+")


@dataclass
class Rebuilt:
    """A rebuilt submission: the notebook to execute and what was found on the way."""

    nb: NotebookNode
    answers: dict[int, str] = field(default_factory=dict)  # key fix cell index -> how it was matched
    missing: list[int] = field(default_factory=list)  # key fix cell indexes with no answer
    notes: list[str] = field(default_factory=list)  # for the feedback page
    flagged: list[int] = field(default_factory=list)  # key fix cell indexes whose answer touches the checks


def rebuild(key: NotebookNode, submission: NotebookNode) -> Rebuilt:
    """Rebuild `submission` from `key`: the key's cells with the learner's answers in its ``fix`` cells.

    Args:
        key: the instructor's notebook.
        submission: the learner's notebook (a released copy they worked in).

    Returns:
        The rebuilt notebook, outputs cleared, with notes on missing, re-matched and edited cells.
    """
    fix_indexes = [i for i, c in enumerate(key.cells) if is_fix(c)]
    # the learner's copies of the key's other cells, recognised by their text when ids are lost
    key_texts = {c.source.strip() for c in key.cells if not is_fix(c)}
    key_ids = {cid: i for i, c in enumerate(key.cells) if (cid := cell_id(c))}
    matched = {key_ids[cid] for c in submission.cells if (cid := cell_id(c)) in key_ids and c.cell_type == "code"}
    by_order = [i for i in fix_indexes if i not in matched]
    found: dict[int, list[str]] = {}
    how: dict[int, str] = {}
    notes: list[str] = []
    current: int | None = None
    for cell in submission.cells:
        cid = cell_id(cell)
        if cid in key_ids:
            k = key_ids[cid]
            current = None
            if cell.cell_type != "code":
                continue
            if k in fix_indexes and k not in found:
                found[k], how[k], current = [cell.source], "id", k
            elif check_name(key.cells[k]) is not None and cell.source.strip() != key.cells[k].source.strip():
                notes.append(f"A check cell was edited (`{_first_line(cell.source)}`); the original check was run.")
        elif cell.cell_type == "code":
            if "fix" in tags(cell) and by_order:
                k = by_order.pop(0)
                found[k], how[k], current = [cell.source], "order", k
            elif CHECK in tags(cell) or cell.source.strip() in key_texts:
                current = None  # one of the key's own cells: the answer ended above it
            elif current is not None:
                found[current].append(cell.source)  # a cell the learner added under their answer
    nb = copy.deepcopy(key)
    nb.metadata.pop("widgets", None)
    rebuilt = Rebuilt(nb, notes=notes)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        if index in fix_indexes:
            if index in found:
                cell.source = "\n\n".join(s for s in found[index] if s.strip()) or prompt_for(key, index)
                rebuilt.answers[index] = how[index]
                if match := _TAMPER.search(cell.source):
                    rebuilt.flagged.append(index)
                    rebuilt.notes.append(f"An answer cell uses labkit's checks (`{match.group(0)}`): review it by hand.")
            else:
                cell.source = prompt_for(key, index)
                rebuilt.missing.append(index)
        elif check_name(cell) is not None:
            cell.metadata["tags"] = [t for t in tags(cell) if t not in NBVAL_BYPASS]
        cell.outputs = []
        cell.execution_count = None
    return rebuilt


def _first_line(source: str) -> str:
    line = next((ln for ln in source.splitlines() if ln.strip()), "")
    return line if len(line) <= 60 else line[:57] + "..."
