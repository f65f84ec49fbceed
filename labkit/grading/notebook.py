"""Notebook plumbing shared by release, rebuild and grading: reading, writing, cell roles.

The curriculum marks each cell's role with a tag (see ``tools/nbbuild.py``):

- ``fix``: the cell that does a step (removed from student copies, taken from the learner when grading);
- ``check``: the step's check, whose source is ``lab.check("<name>")``;
- ``raises-exception``: a cell that shows an intended error.

A *step* of a key notebook is one check cell with the fix cells before it (after the previous check).
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbformat.notebooknode import NotebookNode

from labkit.errors import LabkitError

FIX, CHECK = "fix", "check"
#: Tags that would stop a check cell from counting (nbval skips it, or lets it fail quietly).
NBVAL_BYPASS = ("nbval-skip", "raises-exception", "nbval-raises-exception")


class GradingError(LabkitError, ValueError):
    """The instructor's input cannot be graded or released: missing key notebook, no submissions, bad key.

    Args:
        problem: what is wrong, naming the file or folder.
        fix: what to do about it.
    """

    def __init__(self, problem: str, fix: str) -> None:
        self.problem, self.fix = problem, fix
        super().__init__(f"{problem}. {fix}")


class InvalidNotebook(LabkitError, ValueError):
    """A file is not a readable Jupyter notebook (not JSON, or not nbformat 4)."""

    def __init__(self, path: Path, reason: str) -> None:
        self.path, self.reason = path, reason
        super().__init__(f"`{path.name}` is not a valid notebook: {reason}")


def tags(cell: NotebookNode) -> list[str]:
    """The cell's tags (an empty list when it has none or they are malformed)."""
    value = cell.get("metadata", {}).get("tags", [])
    return [str(t) for t in value] if isinstance(value, list) else []


def is_fix(cell: NotebookNode) -> bool:
    """True for a code cell tagged ``fix``."""
    return bool(cell.get("cell_type") == "code" and FIX in tags(cell))


def check_name(cell: NotebookNode) -> str | None:
    """The check a ``check``-tagged code cell runs: the first ``<obj>.check("<name>")`` call in its source.

    >>> check_name(nbformat.v4.new_code_cell('lab.check("a-records")', metadata={"tags": ["check"]}))
    'a-records'
    >>> check_name(nbformat.v4.new_code_cell('lab.check("a-records")')) is None
    True
    """
    if cell.get("cell_type") != "code" or CHECK not in tags(cell):
        return None
    try:
        tree = ast.parse(str(cell.get("source", "")))
    except SyntaxError:
        return None
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "check"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            return node.args[0].value
    return None


def cell_id(cell: NotebookNode) -> str | None:
    """The cell's id (nbformat 4.5), or None for older notebooks."""
    value = cell.get("id")
    return str(value) if value else None


def read(path: Path) -> NotebookNode:
    """Read a notebook, turning every way it can be broken into `InvalidNotebook`.

    Raises:
        InvalidNotebook: unreadable, not JSON, or not a notebook.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidNotebook(path, f"cannot be read ({exc})") from None
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidNotebook(path, f"it is not JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list) or data.get("nbformat") != 4:
        raise InvalidNotebook(path, "it has no nbformat 4 `cells` list") from None
    try:
        nb = node(data)
        for cell in nb.cells:
            if cell.get("cell_type") not in ("code", "markdown", "raw") or "source" not in cell:
                raise ValueError("a cell without a type or source")
            if isinstance(cell.source, list):
                cell.source = "".join(cell.source)
            cell.setdefault("metadata", node({}))
    except (ValueError, TypeError, AttributeError) as exc:
        raise InvalidNotebook(path, str(exc)) from None
    return nb


def node(data: dict[str, Any]) -> NotebookNode:
    """Plain JSON data as a `NotebookNode` (attribute access all the way down)."""
    result: NotebookNode = nbformat.from_dict(data)  # type: ignore[no-untyped-call]
    return result


def dumps(nb: NotebookNode) -> str:
    """The notebook as JSON text, the same bytes for the same content (what Jupyter itself writes)."""
    if nb.get("nbformat_minor", 0) >= 5:
        for index, cell in enumerate(nb.cells):
            if not cell.get("id"):  # nbformat would invent a random one: keep output deterministic
                cell["id"] = f"cell-{index}"
    text: str = nbformat.writes(nb, version=nbformat.NO_CONVERT)  # type: ignore[no-untyped-call]
    return text if text.endswith("\n") else text + "\n"


def write(nb: NotebookNode, path: Path) -> None:
    """Write the notebook with `dumps`, creating the folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(dumps(nb), encoding="utf-8")


@dataclass
class Step:
    """One graded step of a key notebook: its check cell and the fix cells that lead to it."""

    check: str
    check_index: int  # position of the check cell among all cells
    fix_indexes: list[int] = field(default_factory=list)
    item: str = ""  # the grade column: the check's name, with ``#k`` when the check is graded more than once

    def __post_init__(self) -> None:
        self.item = self.item or self.check


def name_items(all_steps: list[Step]) -> None:
    """Name each step's grade column: a check graded once keeps its name; repeats become ``name#1``, ``name#2``...

    >>> a, b, c = Step("mail-flows", 3), Step("a-records", 5), Step("mail-flows", 9)
    >>> name_items([a, b, c]); [a.item, b.item, c.item]
    ['mail-flows#1', 'a-records', 'mail-flows#2']
    """
    counts: dict[str, int] = {}
    for step in all_steps:
        counts[step.check] = counts.get(step.check, 0) + 1
    seen: dict[str, int] = {}
    for step in all_steps:
        seen[step.check] = seen.get(step.check, 0) + 1
        step.item = step.check if counts[step.check] == 1 else f"{step.check}#{seen[step.check]}"


def steps(nb: NotebookNode) -> list[Step]:
    """The notebook's steps, in order; fix cells after the last check belong to no step.

    >>> nb = nbformat.v4.new_notebook(cells=[
    ...     nbformat.v4.new_code_cell("x", metadata={"tags": ["fix"]}),
    ...     nbformat.v4.new_code_cell('lab.check("a-records")', metadata={"tags": ["check"]})])
    >>> steps(nb)
    [Step(check='a-records', check_index=1, fix_indexes=[0], item='a-records')]
    """
    found: list[Step] = []
    pending: list[int] = []
    for index, cell in enumerate(nb.cells):
        if is_fix(cell):
            pending.append(index)
        name = check_name(cell)
        if name is not None:
            found.append(Step(name, index, pending))
            pending = []
    return found


def as_json(value: Any) -> Any:
    """A notebook node (or anything made of dicts and lists) as plain JSON data."""
    return json.loads(json.dumps(value))
