"""The Python call that does what a cmdlet line does, so a console can show both (as the EMC shows its cmdlet).

>>> print(cmdlet_to_python('New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*"'))
lab.server("mail.contoso.com").new_send_connector("Internet", address_spaces=["*"], usage="Internet")
>>> print(cmdlet_to_python("Get-Queue | Retry-Queue -Resubmit $true"))
server = lab.server("mail.contoso.com")
df = server.get_queue()
for identity in df["Identity"]:
    server.retry_queue(identity, resubmit=True)
"""

from __future__ import annotations

import fnmatch
import inspect
import json
from typing import Any

from labkit.shell.cmdlets import CMDLETS, CmdletSpec
from labkit.shell.formatting import expand
from labkit.shell.pipeline import Stage, plan
from labkit.shell.predicate import Comparison, Predicate
from labkit.shell.tokens import parse
from labkit.transport.facade import ServerFacade
from labkit.views import format_time

DEFAULT_SERVER = "mail.contoso.com"


def _lit(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    return repr(value)


def _args(spec: CmdletSpec, bound: dict[str, Any], piped: str = "") -> str:
    given = {p.arg: bound[p.name] for p in spec.params if p.name in bound and not p.arg.startswith("_")}
    names = list(inspect.signature(getattr(ServerFacade, spec.method)).parameters)[1:]
    parts = []
    if piped:  # a loop variable named after the keyword it fills
        given.pop(piped, None)
        parts.append(piped if names and names[0] == piped else f"{piped}={piped}")
    for key in names:
        if key in given:
            text = _lit(given.pop(key))
            parts.append(text if key == names[0] and not parts else f"{key}={text}")
    parts += [f"{key}={_lit(value)}" for key, value in given.items()]
    return ", ".join(parts)


def _column(comparison: Comparison) -> str:
    return f'df["{comparison.prop}"]'


def _mask_one(c: Comparison) -> str:
    col, value = _column(c), c.value
    if c.op == "":
        text = f"{col}.astype(bool)"
    elif c.op in ("like", "notlike"):
        pattern = fnmatch.translate(str(value).lower())
        text = f"{col}.astype(str).str.lower().str.match({pattern!r})"
        text = text if c.op == "like" else f"~{text}"
    elif c.op == "match":
        text = f"{col}.astype(str).str.contains({str(value)!r}, case=False)"
    else:
        symbol = {"eq": "==", "ne": "!=", "gt": ">", "lt": "<", "ge": ">=", "le": "<="}[c.op]
        is_text = isinstance(value, str) and not value.lstrip("-").isdigit()
        left = f"{col}.astype(str).str.lower()" if is_text else col
        right = _lit(value.lower()) if is_text else _lit(int(value) if isinstance(value, str) else value)
        text = f"({left} {symbol} {right})"
    return f"~({text})" if c.negate else text


def mask(predicate: Predicate) -> str:
    """A pandas boolean mask over ``df`` for a filter (``-and`` → ``&``, ``-or`` → ``|``, left to right)."""
    text = _mask_one(predicate.first)
    for joiner, comparison in predicate.rest:
        text = f"({text}) {'&' if joiner == 'and' else '|'} ({_mask_one(comparison)})"
    return text


def _narrowing(stage: Stage) -> list[str]:
    spec, bound, lines = stage.spec, stage.bound, []
    if spec.select and "Identity" in bound:
        wanted = _lit(str(bound["Identity"]).lower())
        if len(spec.select) == 1:
            lines.append(f'df = df[df["{spec.select[0]}"].str.lower() == {wanted}]')
        else:
            columns = _lit(list(spec.select))
            lines.append(f"df = df[df[{columns}].apply(lambda c: c.astype(str).str.lower() == {wanted}).any(axis=1)]")
    if stage.predicate is not None and not spec.getter:
        lines.append(f"df = df[{mask(stage.predicate)}]")
    if bound.get("Start") is not None:
        lines.append(f'df = df[df["Timestamp"] >= {_lit(format_time(bound["Start"]))}]')
    if bound.get("End") is not None:
        lines.append(f'df = df[df["Timestamp"] <= {_lit(format_time(bound["End"]))}]')
    if "ResultSize" in bound and isinstance(bound["ResultSize"], int) and bound["ResultSize"] != 1000:
        lines.append(f"df = df.head({bound['ResultSize']})")
    return lines


def _utility(stage: Stage) -> list[str]:
    name, bound = stage.spec.name, stage.bound
    props = bound.get("Property")
    plain = [p for p in props or [] if not any(ch in p for ch in "*?[")]
    if name == "Where-Object" and stage.predicate is not None:
        return [f"df = df[{mask(stage.predicate)}]"]
    if name == "Sort-Object" and plain:
        return [f"df = df.sort_values({_lit(plain)}, ascending={not bound.get('Descending')})"]
    lines = []
    if name == "Select-Object" and "First" in bound:
        lines.append(f"df = df.head({bound['First']})")
    if name == "Select-Object" and "Last" in bound:
        lines.append(f"df = df.tail({bound['Last']})")
    if name in ("Select-Object", "Format-Table", "Format-List") and plain and plain == list(props or []):
        lines.append(f"df = df[{_lit(expand([], plain))}]")
    return lines


def _statement(stages: list[Stage], server: str) -> str:
    first = stages[0]
    target = str(first.bound.get("Server") or server)
    handle = f"lab.server({_lit(target if '.' in target else server)})"
    if first.spec.getter and first.predicate is not None and "Identity" not in first.bound:
        # An action verb with -Filter: list the objects, keep those the filter picks, act on each.
        return "\n".join([
            f"server = {handle}", f"df = server.{first.spec.getter}()", f"df = df[{mask(first.predicate)}]",
            'for identity in df["Identity"]:', f"    server.{first.spec.method}({_args(first.spec, first.bound, 'identity')})",
        ])  # fmt: skip
    steps = _narrowing(first)
    for stage in stages[1:]:
        if not stage.spec.method:
            steps += _utility(stage)
            continue
        piped = next(p for p in stage.spec.params if p.pipeline)
        bound = {k: v for k, v in stage.bound.items() if k != piped.name}
        call = f"server.{stage.spec.method}({_args(stage.spec, bound, piped.arg)})"
        if not stage.spec.output:
            steps += [f'for {piped.arg} in df["Identity"]:', f"    {call}"]
            break
        steps.append(f'df = pd.concat([{call} for {piped.arg} in df["Identity"]], ignore_index=True)')
    call = f"{first.spec.method}({_args(first.spec, first.bound)})"
    if not steps:
        return f"{handle}.{call}"
    lines = [f"server = {handle}", f"df = server.{call}", *steps]
    return "\n".join([*lines, "df"] if lines[-1].startswith("df =") else lines)


def cmdlet_to_python(command: str, server: str = DEFAULT_SERVER) -> str:
    """The Python calls that do what `command` does on `server` (the shell's server), one statement per block.

    Args:
        command: Exchange Management Shell text.
        server: the FQDN the shell is connected to.

    Returns:
        Python source using ``lab`` (and ``pd`` for pandas where objects are piped into a Get- verb).

    Raises:
        ShellError: the command does not parse or bind.
    """
    plans = [plan(statement) for statement in parse(command)]
    # PowerShell's own commands alone (Get-Command) have no lab call to show.
    return "\n\n".join(_statement(stages, server) for stages in plans if stages[0].spec.method)


def _ps_value(value: Any) -> str:
    if isinstance(value, bool):
        return "$true" if value else "$false"
    if value is None:
        return "$null"
    if isinstance(value, list | tuple):
        return ",".join(_ps_value(v) for v in value)
    text = str(value)
    if text and all(ch.isalnum() or ch in "._@*:\\-" for ch in text) and not text.startswith("-"):
        return text
    return "'" + text.replace("'", "''") + "'"


def python_to_cmdlet(method: str, *args: Any, **kwargs: Any) -> str:
    """The cmdlet line for a `ServerFacade` call, e.g. for a widget that shows what it ran, as the EMC does.

    >>> python_to_cmdlet("new_send_connector", "Internet", address_spaces=["*"], usage="Internet")
    'New-SendConnector -Name Internet -AddressSpaces * -Usage Internet'
    >>> python_to_cmdlet("set_receive_connector", "MAIL\\\\Default MAIL", permission_groups=["AnonymousUsers", "ExchangeUsers"])
    "Set-ReceiveConnector 'MAIL\\\\Default MAIL' -PermissionGroups AnonymousUsers,ExchangeUsers"

    Raises:
        KeyError: no cmdlet runs `method`, or a keyword has no parameter.
    """
    spec = next(c for c in CMDLETS if c.method == method)
    names = list(inspect.signature(getattr(ServerFacade, method)).parameters)[1:]
    given = {**dict(zip(names, args, strict=False)), **kwargs}
    parts = [spec.name]
    for key, value in given.items():
        if value is None:
            continue
        param = next((p for p in spec.params if p.arg == key and p.kind != "flag"), None)
        if param is None:
            raise KeyError(f"{spec.name} has no parameter for `{key}`")
        shown = _ps_value(value if not isinstance(value, str) or param.kind != "strings" else [value])
        parts.append(shown if param.name == "Identity" and param.position == 0 else f"-{param.name} {shown}")
    return " ".join(parts)
