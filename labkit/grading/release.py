"""Student copies of the instructor's notebooks: each ``fix`` cell becomes a prompt, answers' outputs go.

    from labkit.grading import release
    release("notebooks", "release")      # writes release/01-a-records.ipynb, ...

A prompt cell keeps the fix cell's id, tags and metadata, so grading can put the
learner's answer back in the instructor's notebook. Releasing is deterministic and
idempotent: the same key gives the same bytes, and releasing a released notebook
changes nothing.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

from nbformat.notebooknode import NotebookNode

from labkit.grading.notebook import GradingError, check_name, dumps, is_fix, read, steps

#: A code cell that opens one of the lab's consoles (`labkit.widgets`).
_WIDGET = re.compile(r"\bwidgets\b|\bopen_[a-z_]+\(")

PROMPT = "# ✎ Your turn{what}: write the code that does it in this cell, then run the check below."
WIDGET_PROMPT = (
    "# ✎ Your turn{what}: use the console (widget) above, or paste here the call it shows under it\n"
    "# after you click (a click is not saved in the notebook; the call is), then run the check below."
)


def _title(name: str | None) -> str:
    if name is None:
        return ""
    from labkit.checks import CHECKS

    spec = CHECKS.get(name)
    return f" — {spec.title}" if spec else f" — step `{name}`"


def prompt_for(nb: NotebookNode, index: int) -> str:
    """The prompt that replaces fix cell `index`: its ``labkit.prompt`` metadata, else one made for its step."""
    cell = nb.cells[index]
    custom = cell.get("metadata", {}).get("labkit", {})
    if isinstance(custom, dict) and isinstance(custom.get("prompt"), str):
        return str(custom["prompt"])
    step = next((s for s in steps(nb) if index in s.fix_indexes), None)
    title = _title(step.check if step else None)
    if step is not None and len(step.fix_indexes) > 1:
        title = f" (part {step.fix_indexes.index(index) + 1} of {len(step.fix_indexes)}){title}"
    start = 0
    for j in range(index - 1, -1, -1):  # the step's cells begin after the previous check
        if check_name(nb.cells[j]) is not None:
            start = j + 1
            break
    widget = any(
        c.cell_type == "code" and not is_fix(c) and _WIDGET.search(c.source) for c in nb.cells[start:index]
    )
    return (WIDGET_PROMPT if widget else PROMPT).format(what=title)


def release_notebook(nb: NotebookNode) -> NotebookNode:
    """The student copy of a key notebook (a new object; `nb` is unchanged).

    - every ``fix`` cell: source replaced by a prompt, outputs and execution count cleared,
      id and metadata kept;
    - outputs that show the answer cleared: every code cell from a step's first fix cell
      through its check cell (the "verify" and "check" cells), with their run timings;
    - saved widget state (``metadata.widgets``) dropped: it can hold the calls a console made.
    """
    out = copy.deepcopy(nb)
    reveal: set[int] = set()
    for step in steps(out):
        first = min(step.fix_indexes, default=step.check_index)
        reveal.update(range(first, step.check_index + 1))
    for index, cell in enumerate(out.cells):
        if cell.cell_type != "code":
            continue
        if is_fix(cell):
            cell.source = prompt_for(out, index)
            reveal.add(index)
        if index in reveal:
            cell.outputs = []
            cell.execution_count = None
            cell.metadata.pop("execution", None)  # nbclient's run timings of the instructor's run
    out.metadata.pop("widgets", None)
    return out


def release(src_dir: str | Path, out_dir: str | Path) -> list[Path]:
    """Write the student copy of every ``*.ipynb`` in `src_dir` to `out_dir` (same names).

    Returns:
        The files written, sorted.

    Raises:
        GradingError: `src_dir` has no notebooks, or `out_dir` is `src_dir`.
        InvalidNotebook: a key notebook cannot be read.
    """
    src, out = Path(src_dir), Path(out_dir)
    keys = sorted(p for p in src.glob("*.ipynb") if p.is_file()) if src.is_dir() else []
    if not keys:
        raise GradingError(f"No notebooks in `{src}`", "Give the folder of the instructor's notebooks, e.g. `notebooks/`")
    if out.resolve() == src.resolve():
        raise GradingError(f"`{out}` is the key folder itself", "Release into another folder, e.g. `release/`")
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for key in keys:
        target = out / key.name
        text = dumps(release_notebook(read(key)))
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
        written.append(target)
    return written
