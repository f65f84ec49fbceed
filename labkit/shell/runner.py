"""Call one bound Exchange cmdlet on the lab: the facade verb, then the shell's own parameters.

``-Server`` picks the facade; ``-Filter`` narrows what a Get- verb wrote, or picks
the objects an action verb (Retry-Queue, Remove-Message...) works on;
``-Start`` / ``-End`` / ``-ResultSize`` narrow the tracking log; a positional
``Identity`` of Get-AcceptedDomain / Get-Mailbox / Get-Message picks one object;
``-SourceTransportServers`` must name this server (the lab has one per organisation).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from labkit.errors import InvalidValue, LabkitError, UnknownObject
from labkit.shell.cmdlets import CmdletSpec
from labkit.shell.errors import ShellError, task_error
from labkit.shell.formatting import PSObject
from labkit.shell.predicate import Predicate
from labkit.views import format_time

if TYPE_CHECKING:
    from labkit.core import LabCore
    from labkit.transport.facade import ServerFacade



class Session:
    """One shell connected to an Exchange server of a lab (as the EMS connects to one server).

    Args:
        lab: the running lab.
        server: the FQDN the shell is connected to; the lab's first Exchange server by default.

    Raises:
        UnknownObject: no such Exchange server.
    """

    def __init__(self, lab: LabCore, server: str | None = None) -> None:
        self.lab = lab
        self.default = lab.server(server or lab.servers[0])

    def facade(self, server: str | None = None) -> ServerFacade:
        """The server a ``-Server`` value names: this one by its short name (``MAIL``) or FQDN, or another FQDN.

        Raises:
            UnknownObject: no such Exchange server.
        """
        if server is None or server.lower() in (self.default.identity.lower(), self.default.name.lower()):
            return self.default
        return self.lab.server(server)


def as_task_error(spec: CmdletSpec, error: LabkitError) -> ShellError:
    """A `LabkitError` from the verb as the product's task error."""
    return task_error(spec.name, spec.task_class, error, {p.arg: p.name for p in spec.params})


def objects(spec: CmdletSpec, df: pd.DataFrame) -> list[PSObject]:
    """The rows of a facade table as pipeline objects of `spec`'s output type (collections as lists)."""
    result = []
    for record in df.to_dict("records"):
        props: dict[str, Any] = {}
        for key, value in record.items():
            if hasattr(value, "item"):  # numpy scalars → Python
                value = value.item()
            if isinstance(value, float) and value != value:  # NaN
                value = None
            if key in spec.lists and isinstance(value, str):
                value = [v for v in value.split(";") if v]
            props[str(key)] = value
        result.append(PSObject(spec.output or "", props, spec.columns))
    return result


def _facade_args(spec: CmdletSpec, bound: dict[str, Any]) -> dict[str, Any]:
    return {p.arg: bound[p.name] for p in spec.params if p.name in bound and not p.arg.startswith("_")}


def _check_source_servers(facade: ServerFacade, names: list[str]) -> None:
    for name in names:
        if name.lower() not in (facade.identity.lower(), facade.name.lower()):
            raise UnknownObject(
                "Hub Transport server", name, [facade.identity],
                f"Each organisation of the lab has one Hub Transport server; this shell is on {facade.identity} "
                f"({facade.name}). Use -SourceTransportServers {facade.identity}.",
            )  # fmt: skip


def invoke(
    spec: CmdletSpec, bound: dict[str, Any], session: Session, predicate: Predicate | None,
    errors: list[str], changed: Callable[[], None],
) -> list[PSObject]:  # fmt: skip
    """Run `spec` with `bound` parameters; the objects it writes.

    Raises:
        LabkitError: the verb's error (nothing changed).
    """
    facade = session.facade(bound.get("Server"))
    for param in spec.params:
        if param.arg == "_fixed" and param.name in bound and bound[param.name] != param.value:
            raise InvalidValue(param.name, bound[param.name], f"is not modelled: the lab's connectors keep the "
                               f"product's default, {param.value}", f"Leave -{param.name} out.")  # fmt: skip
    if "SourceTransportServers" in bound:
        _check_source_servers(facade, bound["SourceTransportServers"])
    method = getattr(facade, spec.method)
    kwargs = _facade_args(spec, bound)
    if spec.getter and predicate is not None and "Identity" not in bound:
        # An action verb with -Filter works on every object the filter picks.
        targets = [o for o in objects(spec, getattr(facade, spec.getter)()) if predicate.test(o.props)]
        for target in targets:
            try:
                method(**{**kwargs, "identity": target.identity})
            except LabkitError as exc:  # non-terminating: report it, go on with the next object
                errors.append(as_task_error(spec, exc).render(""))
                continue
            changed()
        return []
    if not spec.output:
        method(**kwargs)
        changed()
        return []
    result = objects(spec, method(**kwargs))
    if spec.name.startswith("New-"):
        changed()
    return _narrow(spec, bound, result, predicate)


def _narrow(spec: CmdletSpec, bound: dict[str, Any], result: list[PSObject], predicate: Predicate | None) -> list[PSObject]:
    if spec.pick is not None:
        column, arg = spec.pick
        wanted = str(next(bound[p.name] for p in spec.params if p.arg == arg)).strip().lower()
        result = [o for o in result if str(o.get(column)).lower() == wanted]
    if spec.select and "Identity" in bound:
        key = str(bound["Identity"]).lower()
        chosen = [o for o in result if any(str(o.get(c) or "").lower() == key for c in spec.select)]
        if not chosen:
            known = [o.identity for o in result]
            raise UnknownObject(spec.output or "object", bound["Identity"], known)
        result = chosen
    if predicate is not None:
        result = [o for o in result if predicate.test(o.props)]
    start: datetime | None = bound.get("Start")
    end: datetime | None = bound.get("End")
    if start is not None or end is not None:
        if start is not None and end is not None and end < start:
            raise InvalidValue("End", format_time(end), "is before Start", "Give an End after the Start.")
        low = format_time(start) if start else ""
        high = format_time(end) if end else "~"
        result = [o for o in result if low <= str(o.get("Timestamp")) <= high]
    size = bound.get("ResultSize")
    if isinstance(size, int) and size >= 0:
        result = result[:size]
    return result
