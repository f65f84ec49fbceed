"""PowerShell's output layout: default tables per object type, ``Name : Value`` lists, collections in braces.

The text is deterministic (no console width probing): a table's columns are as
wide as their widest value (``Format-Table -AutoSize``), trimmed with ``...`` when
a line would pass 120 characters, the width of the 2010 shell's console buffer.

>>> rows = [PSObject("Queue", {"Identity": "MAIL\\\\Submission", "Status": "Ready", "MessageCount": 0})]
>>> print(table(rows, ["Identity", "Status", "MessageCount"]))
Identity        Status MessageCount
--------        ------ ------------
MAIL\\Submission Ready  0
>>> print(listing(rows, ["Identity", "MessageCount"]))
Identity     : MAIL\\Submission
MessageCount : 0
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

WIDTH = 120
_MIN_COLUMN = 8


@dataclass
class PSObject:
    """One object on the pipeline: its type (for its default view) and its properties in order.

    Attributes:
        type_name: ``Queue``, ``SendConnector``...; "" for what Select-Object makes.
        props: property name → value (str, int, bool, None or a list for a collection).
        columns: the type's default table columns; empty: PowerShell's rule (a table for up to four
            properties, else a list).
    """

    type_name: str
    props: dict[str, Any]
    columns: tuple[str, ...] = field(default_factory=tuple)

    @property
    def identity(self) -> str:
        """The object's Identity (or Name), as the pipeline hands it to the next cmdlet."""
        return text(self.props.get("Identity", self.props.get("Name", "")))

    def get(self, name: str) -> Any:
        """A property by name, case-insensitively (None when it has none, as in PowerShell)."""
        for key, value in self.props.items():
            if key.lower() == name.lower():
                return value
        return None


def text(value: Any) -> str:
    """A value as PowerShell prints it: ``True``, ``{a, b}`` for a collection, "" for $null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list | tuple):
        return "{" + ", ".join(text(v) for v in value) + "}"
    return str(value)


def expand(objects: Sequence[PSObject], wanted: Sequence[str]) -> list[str]:
    """Property names matching `wanted` (wildcards allowed, ``*`` = all), in the order they were asked for.

    >>> expand([PSObject("Q", {"Identity": 1, "MessageCount": 2, "Status": 3})], ["*Count", "identity"])
    ['MessageCount', 'Identity']
    """
    names: list[str] = []
    for obj in objects:
        for name in obj.props:
            if name not in names:
                names.append(name)
    chosen: list[str] = []
    for pattern in wanted:
        hits = [n for n in names if fnmatch.fnmatchcase(n.lower(), pattern.lower())]
        if not hits and not any(ch in pattern for ch in "*?["):
            hits = [pattern]  # PowerShell still shows the column (empty) for a property nobody has
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _cut(value: str, width: int) -> str:
    return value if len(value) <= width else value[: max(width - 3, 0)] + "..."


def table(objects: Sequence[PSObject], columns: Sequence[str]) -> str:
    """Format-Table: a header, a dashed rule, one line per object (no trailing spaces)."""
    cells = [[text(obj.get(c)).replace("\n", " ") for c in columns] for obj in objects]
    widths = [max([len(c), *(len(row[i]) for row in cells)]) for i, c in enumerate(columns)]
    while sum(widths) + len(widths) - 1 > WIDTH and max(widths) > _MIN_COLUMN:
        widest = widths.index(max(widths))
        widths[widest] -= 1

    def line(values: Sequence[str]) -> str:
        return " ".join(_cut(v, w).ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    rows = [line(list(columns)), line(["-" * len(c) for c in columns])]
    rows += [line(row) for row in cells]
    return "\n".join(rows)


def listing(objects: Sequence[PSObject], properties: Sequence[str] | None = None) -> str:
    """Format-List: ``Name : Value`` per property, names padded to the longest, a blank line between objects."""
    blocks = []
    for obj in objects:
        names = list(properties) if properties is not None else list(obj.props)
        pad = max((len(n) for n in names), default=0)
        blocks.append("\n".join(f"{n.ljust(pad)} : {text(obj.get(n))}".rstrip() for n in names))
    return "\n\n".join(blocks)


def default_view(objects: Sequence[PSObject]) -> str:
    """What Out-Default prints: each run of same-typed objects in its type's default table (PowerShell's
    rule for objects without one: a table for up to four properties, else a list)."""
    parts: list[str] = []
    run: list[PSObject] = []
    for obj in objects:
        if run and obj.type_name != run[0].type_name:
            parts.append(_view(run))
            run = []
        run.append(obj)
    if run:
        parts.append(_view(run))
    return "\n\n".join(p for p in parts if p)


def _view(objects: Sequence[PSObject]) -> str:
    first = objects[0]
    if first.columns:
        return table(objects, first.columns)
    names = expand(objects, ["*"])
    return table(objects, names) if len(names) <= 4 else listing(objects)
