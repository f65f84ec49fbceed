"""The `LabkitError` family: every error a learner can meet, each with a message that teaches.

Each constructor builds its own message from the object it names, the valid
choices and the fix, so that call sites stay short and every message has the
same shape (STYLE.md §7).
"""

from __future__ import annotations

from collections.abc import Iterable


def _choices(values: Iterable[object]) -> str:
    items = [f"`{v}`" for v in values]
    return ", ".join(items) if items else "(none)"


class LabkitError(Exception):
    """Base of every error labkit raises on purpose.

    Widgets turn a `LabkitError` into a status message; anything else is a bug
    and is shown as a traceback.
    """


class ScenarioError(LabkitError, ValueError):
    """A scenario file is malformed or inconsistent.

    Args:
        source: the file (or "<scenario>") the entry came from.
        entry: which entry is wrong, e.g. ``hosts[2] (mail.contoso.com)``.
        problem: what is wrong with it.
        fix: what to change.
    """

    def __init__(self, source: str, entry: str, problem: str, fix: str) -> None:
        self.source, self.entry, self.problem, self.fix = source, entry, problem, fix
        super().__init__(f"{source}: {entry}: {problem}. Fix: {fix}")


class InvalidValue(LabkitError, ValueError):
    """A value given to the API (or typed into a widget) is not acceptable.

    Args:
        field: the parameter or form field, e.g. ``data`` or ``preference``.
        value: what was given.
        problem: why it is wrong.
        fix: what would be accepted.
    """

    def __init__(self, field: str, value: object, problem: str, fix: str) -> None:
        self.field, self.value, self.fix = field, value, fix
        super().__init__(f"`{field}` = {value!r}: {problem}. {fix}")


class UnknownObject(LabkitError, LookupError):
    """A name that does not exist: a host, zone, record, rule, server, connector, queue...

    Args:
        kind: what was looked up, e.g. ``zone``.
        name: the name given.
        choices: the names that do exist.
        fix: optional advice; the default suggests one of the choices.
    """

    def __init__(self, kind: str, name: object, choices: Iterable[object], fix: str = "") -> None:
        self.kind, self.name = kind, name
        self.choices = list(choices)
        advice = fix or f"Use one of: {_choices(self.choices)}."
        super().__init__(f"No {kind} `{name}`. {advice}")

    def __str__(self) -> str:  # LookupError would repr() the message; keep it readable
        return str(self.args[0])


class DuplicateObject(LabkitError, ValueError):
    """An object that already exists was added again."""

    def __init__(self, kind: str, name: object, fix: str) -> None:
        self.kind, self.name = kind, name
        super().__init__(f"The {kind} `{name}` already exists. {fix}")


class LabNotRunning(LabkitError, RuntimeError):
    """The lab was used after `stop()` (or before `start()`)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"The lab `{name}` is not running. Start one with `lab = labkit.start()` "
            "(or re-run the cell that starts it)."
        )


class LabTimeout(LabkitError, TimeoutError):
    """A request into the lab loop did not finish in time."""

    def __init__(self, what: str, seconds: float) -> None:
        super().__init__(
            f"`{what}` did not finish within {seconds:g} s. The lab may be busy; "
            "try again, or pass a larger `timeout=`."
        )


class NetworkUnreachable(LabkitError, OSError):
    """No route exists between two lab addresses (e.g. the internet to a private LAN address)."""

    def __init__(self, source: str, destination: str, why: str) -> None:
        self.source, self.destination = source, destination
        super().__init__(f"Network is unreachable: `{source}` → `{destination}`: {why}")


class ConnectionDenied(LabkitError, ConnectionRefusedError):
    """The lab network or the firewall refused a connection."""

    def __init__(self, source: str, destination: str, why: str) -> None:
        self.source, self.destination = source, destination
        super().__init__(f"Connection refused: `{source}` → `{destination}`: {why}")
