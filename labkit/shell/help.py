"""``Get-Command``: what the lab's shell knows, with each cmdlet's syntax written from the cmdlet table.

PowerShell 2.0 prints a command's syntax in its Definition, parameters in the
table's order: ``New-SendConnector [-Name] <String> -AddressSpaces
<MultiValuedProperty> [-Usage <String>] ...`` (mandatory ones without brackets,
a positional name in brackets).
"""

from __future__ import annotations

import fnmatch

from labkit.shell.cmdlets import CMDLETS, CmdletSpec, Param
from labkit.shell.formatting import PSObject

_TYPES = {
    "string": "String", "strings": "MultiValuedProperty", "bool": "Boolean", "int": "Int32", "size": "Unlimited",
    "date": "DateTime", "resultsize": "Unlimited", "filter": "String",
}  # fmt: skip


def _part(param: Param) -> str:
    if param.kind in ("switch", "flag"):
        return f"[-{param.name}]"
    name = f"[-{param.name}]" if param.position is not None else f"-{param.name}"
    text = f"{name} <{_TYPES[param.kind]}>"
    return text if param.mandatory else f"[{text}]"


def syntax(spec: CmdletSpec) -> str:
    """One cmdlet's syntax line.

    >>> from labkit.shell.cmdlets import find
    >>> syntax(find("Remove-SendConnector"))
    'Remove-SendConnector [-Identity] <String> [-Confirm]'
    """
    return " ".join([spec.name, *(_part(p) for p in spec.params)])


COLUMNS = ("CommandType", "Name", "Definition")


def get_command(pattern: str | None = None, utilities: tuple[CmdletSpec, ...] = ()) -> list[PSObject]:
    """``Get-Command [name]``: the Exchange cmdlets (functions of the remote session, as in the 2010 shell) and
    PowerShell's own cmdlets the lab understands, matching `pattern` (wildcards allowed)."""
    rows = [("Function", spec) for spec in CMDLETS] + [("Cmdlet", spec) for spec in utilities]
    chosen = [(kind, spec) for kind, spec in rows if pattern is None or fnmatch.fnmatch(spec.name.lower(), pattern.lower())]
    chosen.sort(key=lambda row: row[1].name.lower())
    return [PSObject("CommandInfo", {"CommandType": kind, "Name": spec.name, "Definition": syntax(spec)}, COLUMNS)
            for kind, spec in chosen]  # fmt: skip
