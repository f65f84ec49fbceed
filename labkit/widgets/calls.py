r"""The API call a widget makes, as data: it runs the call and shows it as the code a learner can paste.

A widget never calls the lab directly. It builds an `ApiCall` — a path from the
lab object to a method, with the arguments — and the same object both *runs*
the call and *renders* it, so the code shown under the widget is, by
construction, exactly what the widget did (DESIGN.md §1.4, like the Exchange
Management Console showing the shell command it ran).

>>> call = ApiCall.on("dns").method("add_record", "xutonglin.com", "mail", "A", "100.100.100.254")
>>> call.code()
'lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")'
>>> ApiCall.on_server("mail.contoso.com").method("retry_queue", "MAIL\\Unreachable", resubmit=True).code()
'lab.server("mail.contoso.com").retry_queue("MAIL\\\\Unreachable", resubmit=True)'
"""

from __future__ import annotations

import html
import importlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


class LabRef:
    """Stands for the lab itself as an argument (shown as the lab's variable name)."""

    def __repr__(self) -> str:
        return "LAB"


#: Pass as an argument to mean "the lab", e.g. ``ApiCall.function("labkit.widgets", "tracking_log", LAB)``.
LAB = LabRef()


def py_literal(value: object, lab_var: str = "lab") -> str:
    r"""Python source for a plain value, with double-quoted strings (as a person would type it).

    Supports str, bool, None, int, float, and lists, tuples and dicts of those.

    >>> py_literal("mail"), py_literal(10), py_literal(True), py_literal(None)
    ('"mail"', '10', 'True', 'None')
    >>> py_literal(["AnonymousUsers", "ExchangeUsers"])
    '["AnonymousUsers", "ExchangeUsers"]'
    >>> py_literal('say "hi"\n')
    '"say \\"hi\\"\\n"'

    Raises:
        TypeError: a value with no literal form (the widget would be showing code that cannot be pasted).
    """
    if isinstance(value, LabRef):
        return lab_var
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid Python string literal
    if value is None or isinstance(value, bool | int):
        return repr(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TypeError(f"no Python literal for {value!r}")
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(v, lab_var) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(py_literal(v, lab_var) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k, lab_var)}: {py_literal(v, lab_var)}" for k, v in value.items()) + "}"
    raise TypeError(f"no Python literal for {type(value).__name__} {value!r}")


def format_arguments(args: Sequence[object] = (), kwargs: Mapping[str, object] | None = None, lab_var: str = "lab") -> str:
    """The inside of a call's parentheses.

    >>> format_arguments(("contoso.com", "@", "MX", "mail.contoso.com"), {"preference": 10})
    '"contoso.com", "@", "MX", "mail.contoso.com", preference=10'
    """
    parts = [py_literal(a, lab_var) for a in args]
    parts += [f"{k}={py_literal(v, lab_var)}" for k, v in (kwargs or {}).items()]
    return ", ".join(parts)


@dataclass(frozen=True)
class Step:
    """One link of the path from the lab to the method: an attribute, or a call when `args` is not None."""

    name: str
    args: tuple[object, ...] | None = None
    kwargs: Mapping[str, object] = field(default_factory=dict)

    def code(self, lab_var: str = "lab") -> str:
        """``.name`` or ``.name(args)``."""
        if self.args is None:
            return f".{self.name}"
        return f".{self.name}({format_arguments(self.args, self.kwargs, lab_var)})"

    def apply(self, obj: Any, lab: object) -> Any:
        """Follow this link from `obj` (`LAB` arguments become `lab`)."""
        target = getattr(obj, self.name)
        if self.args is None:
            return target
        args = [lab if isinstance(a, LabRef) else a for a in self.args]
        kwargs = {k: lab if isinstance(v, LabRef) else v for k, v in self.kwargs.items()}
        return target(*args, **kwargs)


@dataclass(frozen=True)
class ApiCall:
    """A public API call on a lab, e.g. ``lab.server("mail.contoso.com").get_queue()``.

    Build one with `ApiCall.on`, `ApiCall.on_server` and `method`/`attr`; `run` it
    on a lab; show it with `code`. Both use the same steps, so the code shown
    is the call made.
    """

    steps: tuple[Step, ...] = ()
    module: str = ""  # "" starts at the lab; else a module path, e.g. "labkit.widgets"

    @classmethod
    def on(cls, *attributes: str) -> ApiCall:
        """Start at ``lab.<attribute>...`` (no attributes: the lab itself)."""
        return cls(tuple(Step(a) for a in attributes))

    @classmethod
    def on_server(cls, server: str) -> ApiCall:
        """Start at ``lab.server("<server>")``."""
        return cls((Step("server", (server,)),))

    @classmethod
    def function(cls, module: str, name: str, *args: object, **kwargs: object) -> ApiCall:
        """A module-level function, e.g. ``labkit.widgets.tracking_log(lab, sender=...)`` (pass `LAB` for the lab)."""
        return cls((), module).method(name, *args, **kwargs)

    def method(self, name: str, *args: object, **kwargs: object) -> ApiCall:
        """This call followed by ``.name(*args, **kwargs)``."""
        for value in (*args, *kwargs.values()):
            py_literal(value)  # refuse, now, an argument that could not be shown as code
        return ApiCall((*self.steps, Step(name, tuple(args), dict(kwargs))), self.module)

    def attr(self, name: str) -> ApiCall:
        """This call followed by ``.name``."""
        return ApiCall((*self.steps, Step(name)), self.module)

    def code(self, lab_var: str = "lab") -> str:
        """The call as Python source, starting from the variable that holds the lab (or the module)."""
        return (self.module or lab_var) + "".join(step.code(lab_var) for step in self.steps)

    def run(self, lab: object) -> Any:
        """Make the call on `lab` and return its result (exceptions propagate unchanged)."""
        obj: Any = importlib.import_module(self.module) if self.module else lab
        for step in self.steps:
            obj = step.apply(obj, lab)
        return obj

    def __str__(self) -> str:
        return self.code()


def code_html(code: str, title: str = "Equivalent API call") -> str:
    """The call as a code block with a copy button (the browser's clipboard API; a no-op headless).

    >>> "navigator.clipboard.writeText" in code_html('lab.dns.zones()')
    True
    """
    payload = html.escape(json.dumps(code), quote=True)
    button = (
        f'<button type="button" title="Copy to the clipboard" '
        f'onclick="navigator.clipboard.writeText({payload});this.textContent=\'Copied\'" '
        'style="font-size:11px;padding:0 6px;margin-left:8px;cursor:pointer">Copy</button>'
    )
    return (
        '<div class="labkit-call" style="margin-top:4px">'
        f'<div style="font-size:11px;color:#555">{html.escape(title)}{button}</div>'
        '<pre style="margin:2px 0;padding:4px 6px;background:#f5f5f5;border:1px solid #ddd;'
        f'white-space:pre-wrap"><code>{html.escape(code)}</code></pre></div>'
    )
