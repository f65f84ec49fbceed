"""`run_ems`: type Exchange Management Shell lines at one of the lab's Exchange servers."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from labkit.shell.errors import ShellError
from labkit.shell.formatting import PSObject, default_view
from labkit.shell.pipeline import execute
from labkit.shell.python import cmdlet_to_python
from labkit.shell.result import EMS_PROMPT, ShellResult
from labkit.shell.runner import Session
from labkit.shell.tokens import Pipeline, parse_line

if TYPE_CHECKING:
    from labkit.core import LabCore


def _statements(command: str) -> tuple[list[tuple[str, list[Pipeline]]], ShellError | None, str]:
    lines: list[tuple[str, list[Pipeline]]] = []
    for line in re.sub(r"`[ \t]*\r?\n", " ", command).splitlines():
        try:
            parsed = parse_line(line)
        except ShellError as error:
            return [], error, line
        if parsed:
            lines.append((line.strip(), parsed))
    return lines, None, ""


def run_ems(lab: LabCore, command: str, server: str | None = None) -> ShellResult:
    """Run `command` (one or more lines of cmdlets) in an Exchange Management Shell connected to `server`.

    Statements run in order; one that fails to parse stops everything (as in
    PowerShell, nothing of the text runs), one that fails to bind or whose verb
    rejects a value prints its error, changes nothing, and the next statement runs.

    Args:
        lab: the running lab.
        command: e.g. ``Set-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups AnonymousUsers,ExchangeUsers``.
        server: the Exchange server's FQDN; the lab's first (``mail.contoso.com`` in the seed) by default.

    Returns:
        The console's text, the objects the last statement wrote, its errors and the equivalent Python.

    Raises:
        UnknownObject: `server` is not an Exchange server of the lab.
        LabNotRunning: the lab has stopped.
    """
    session = Session(lab, server)
    where = session.default.name
    lines, parse_failure, bad_line = _statements(command)
    if parse_failure is not None:
        rendered = parse_failure.render(bad_line)
        return ShellResult("Exchange Management Shell", command, rendered, errors=[rendered], where=where,
                           blocks=[(bad_line.strip(), rendered)])  # fmt: skip
    chunks: list[str] = []
    errors: list[str] = []
    objects: list[PSObject] = []
    blocks: list[tuple[str, str]] = []
    for line, statements in lines:
        before = len(chunks)
        for statement in statements:
            try:
                outcome = execute(statement, session)
            except ShellError as error:
                rendered = error.render(statement.line)
                chunks.append(rendered)
                errors.append(rendered)
                objects = []
                continue
            shown = outcome.text if outcome.text is not None else default_view(outcome.objects)
            chunks += [c for c in (shown, *outcome.errors) if c]
            errors += outcome.errors
            objects = outcome.objects
        blocks.append((line, "\n\n".join(chunks[before:])))
    try:  # only for a run that worked: the Python of a rejected command would mislead
        python = cmdlet_to_python(command, where) if not errors else ""
    except ShellError:
        python = ""
    text = "\n\n".join(chunks)
    return ShellResult("Exchange Management Shell", command, text, objects, errors, python, where, EMS_PROMPT, blocks)
