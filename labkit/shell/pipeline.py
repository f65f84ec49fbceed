"""Run a parsed pipeline against the lab: Exchange cmdlets through `ServerFacade`, then PowerShell's own
Format-List, Format-Table, Select-Object, Where-Object and Sort-Object.

Every command of a statement is looked up and bound before the first one runs,
so an unknown cmdlet, a bad parameter or a bad value anywhere in the statement
changes nothing. Once it runs, an error the lab's verb raises for one piped
object is reported and the next object is processed, as PowerShell does with a
non-terminating error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from labkit.errors import LabkitError
from labkit.shell import cmdlets, runner
from labkit.shell.binder import bind
from labkit.shell.cmdlets import CmdletSpec, Param
from labkit.shell.errors import ShellError, not_recognized
from labkit.shell.formatting import PSObject, default_view, expand, listing, table
from labkit.shell.help import get_command
from labkit.shell.predicate import Predicate, compile_predicate
from labkit.shell.tokens import Command, Pipeline

_PS = "Microsoft.PowerShell.Commands."
UTILITIES: dict[str, CmdletSpec] = {
    spec.name.lower(): spec
    for spec in (
        CmdletSpec("Format-List", "", _PS + "FormatListCommand", (Param("Property", "property", "strings", position=0),)),
        CmdletSpec("Format-Table", "", _PS + "FormatTableCommand", (
            Param("Property", "property", "strings", position=0), Param("AutoSize", "_autosize", "switch"),
            Param("Wrap", "_wrap", "switch"),
        )),
        CmdletSpec("Select-Object", "", _PS + "SelectObjectCommand", (
            Param("Property", "property", "strings", position=0), Param("First", "first", "int"),
            Param("Last", "last", "int"),
        )),
        CmdletSpec("Where-Object", "", _PS + "WhereObjectCommand",
                   (Param("FilterScript", "filter", "filter", mandatory=True, position=0),)),
        CmdletSpec("Sort-Object", "", _PS + "SortObjectCommand", (
            Param("Property", "property", "strings", position=0), Param("Descending", "descending", "switch"),
        )),
        CmdletSpec("Get-Command", "", _PS + "GetCommandCommand", (Param("Name", "name", position=0),)),
    )
}
ALIASES = {"gcm": "get-command", "fl": "format-list", "ft": "format-table", "select": "select-object", "where": "where-object",
           "?": "where-object", "sort": "sort-object"}  # fmt: skip


def lookup(name: str) -> CmdletSpec | None:
    """An Exchange cmdlet or one of PowerShell's own, by name or alias (case-insensitive)."""
    key = ALIASES.get(name.lower(), name.lower())
    return cmdlets.find(key) or UTILITIES.get(key)


@dataclass
class Stage:
    """One bound command of a statement."""

    spec: CmdletSpec
    command: Command
    bound: dict[str, Any]
    predicate: Predicate | None = None


@dataclass
class Outcome:
    """What a statement wrote: objects, or formatted text, and its errors."""

    objects: list[PSObject] = field(default_factory=list)
    text: str | None = None
    errors: list[str] = field(default_factory=list)
    changed: bool = False


def plan(statement: Pipeline) -> list[Stage]:
    """Look up and bind every command of `statement` (pipeline input bound to a stand-in Identity).

    Raises:
        ShellError: the first lookup or binding error; nothing has run.
    """
    stages: list[Stage] = []
    flowing = ""  # the type of the objects reaching this command
    for index, command in enumerate(statement.commands):
        spec = lookup(command.name)
        if spec is None:
            raise not_recognized(command.name, command.span)
        if stages and stages[-1].spec.name.startswith("Format-"):
            raise ShellError(
                'The object of type "Microsoft.PowerShell.Commands.Internal.Format.FormatStartData" is not valid or '
                'not in the correct sequence. This is likely caused by a user-specified "format-*" command which is '
                "conflicting with the default formatting.", "InvalidData", "InvalidOperationException",
                "ConsoleLineOutputOutOfSequencePacket,Microsoft.PowerShell.Commands.OutLineOutputCommand",
                "out-lineoutput", ":", command.span,
            )  # fmt: skip
        bound = bind(spec, command, (flowing, "<piped>") if index and spec.method else None)
        predicate = None
        if "Filter" in bound or "FilterScript" in bound:
            name = "Where-Object" if "FilterScript" in bound else "-Filter"
            block = bound["FilterScript"] if "FilterScript" in bound else bound["Filter"]
            predicate = compile_predicate(block, name, bare=name != "Where-Object")
        stages.append(Stage(spec, command, bound, predicate))
        if spec.method:
            flowing = spec.output or ""
        elif spec.name == "Select-Object" and "Property" in bound:
            flowing = ""
        elif spec.name == "Get-Command":
            flowing = "CommandInfo"
    return stages


def execute(statement: Pipeline, session: runner.Session) -> Outcome:
    """Run `statement`: plan it, then stream objects stage by stage; returns what it wrote.

    Raises:
        ShellError: a lookup, binding or parse error (nothing ran), or a terminating error of the first cmdlet.
    """
    stages = plan(statement)
    outcome = Outcome()
    objects: list[PSObject] = []
    upstream_type = ""
    for index, stage in enumerate(stages):
        if index == 0 and not stage.spec.method:  # Get-Command, or a formatter with nothing piped in
            result = _utility(stage, [])
            if isinstance(result, str):
                outcome.text = result
                return outcome
            objects = result
        elif index == 0:
            objects = _run_first(stage, session, outcome)
            upstream_type = stage.spec.output or ""
        elif stage.spec.method:
            objects = _run_piped(stage, objects, upstream_type, session, outcome, statement)
            upstream_type = stage.spec.output or ""
        else:
            result = _utility(stage, objects)
            if isinstance(result, str):
                outcome.text = result
                outcome.objects = objects  # what was formatted stays available to code (ShellResult.objects)
                return outcome
            objects = result
    outcome.objects = objects
    return outcome


def _run_first(stage: Stage, session: runner.Session, outcome: Outcome) -> list[PSObject]:
    try:
        return runner.invoke(stage.spec, stage.bound, session, stage.predicate, outcome.errors, lambda: _mark(outcome))
    except LabkitError as exc:
        raise runner.as_task_error(stage.spec, exc) from exc


def _mark(outcome: Outcome) -> None:
    outcome.changed = True


def _run_piped(
    stage: Stage, objects: list[PSObject], upstream: str, session: runner.Session, outcome: Outcome,
    statement: Pipeline,
) -> list[PSObject]:  # fmt: skip
    written: list[PSObject] = []
    calls: list[dict[str, Any]] = []
    for obj in objects:  # bind everything first: a binding error stops the statement before any call
        calls.append(bind(stage.spec, stage.command, (obj.type_name or upstream, obj.identity)))
    for bound in calls:
        try:
            written += runner.invoke(stage.spec, bound, session, stage.predicate, outcome.errors, lambda: _mark(outcome))
        except LabkitError as exc:
            outcome.errors.append(runner.as_task_error(stage.spec, exc).render(statement.line))
    return written


def _utility(stage: Stage, objects: list[PSObject]) -> list[PSObject] | str:
    name, bound = stage.spec.name, stage.bound
    props: list[str] | None = bound.get("Property")
    if name == "Get-Command":
        return get_command(bound.get("Name"), tuple(UTILITIES.values()))
    if name == "Format-List":
        return listing(objects, expand(objects, props) if props else None)
    if name == "Format-Table":
        if props:
            return table(objects, expand(objects, props)) if objects else ""
        return default_view(objects) if objects else ""
    if name == "Where-Object":
        assert stage.predicate is not None
        return [o for o in objects if stage.predicate.test(o.props)]
    if name == "Sort-Object":
        keys = props or (list(objects[0].columns[:1]) if objects and objects[0].columns else ["Identity"])
        return sorted(objects, key=_sort_key(keys), reverse=bool(bound.get("Descending")))
    # Select-Object
    chosen = objects
    if "First" in bound:
        chosen = chosen[: bound["First"]]
    if "Last" in bound:
        chosen = chosen[-bound["Last"] :] if bound["Last"] else []
    if props:
        names = expand(chosen, props)
        return [PSObject("", {n: o.get(n) for n in names}) for o in chosen]
    return list(chosen)


def _sort_key(keys: list[str]) -> Callable[[PSObject], tuple[Any, ...]]:
    def key(obj: PSObject) -> tuple[Any, ...]:
        parts: list[Any] = []
        for name in keys:
            value = obj.get(name)
            is_number = isinstance(value, int | float) and not isinstance(value, bool)
            parts.append((0, value, "") if is_number else (1, 0, str(value if value is not None else "").lower()))
        return tuple(parts)

    return key
