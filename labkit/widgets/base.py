"""Shared form behaviour of every labkit widget (STYLE.md §11).

A `LabForm` is a `VBox` that holds its inputs, action buttons, a status line
and the "equivalent API call" box. An action goes through `LabForm.perform`:

1. the widget's own checks build an `ApiCall` (a `LabkitError` here changes nothing);
2. the call is shown, then run on the lab with the action button disabled;
3. a `LabkitError` from the lab becomes a status message naming the problem,
   any other exception a visible traceback inside the widget — never a print,
   which would land in whatever cell runs next and break nbval.

Callbacks never fire under nbval, so every button has a method of the same
name, and the shown call works on its own (DESIGN.md §1.4).
"""

from __future__ import annotations

import html
import threading
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal

import ipywidgets as widgets
import pandas as pd

from labkit.errors import InvalidValue, LabkitError
from labkit.widgets.calls import ApiCall, code_html

if TYPE_CHECKING:
    from labkit.lab import Lab

StatusKind = Literal["", "info", "ok", "error", "traceback"]

_COLOURS: dict[str, str] = {"info": "#555", "ok": "#1a7f37", "error": "#b42318", "traceback": "#b42318"}
_ICONS: dict[str, str] = {"info": "ℹ", "ok": "✔", "error": "✖", "traceback": "✖"}


def status_html(kind: StatusKind, text: str) -> str:
    """The status line as HTML: an icon and the message, coloured by kind; tracebacks in a code block.

    >>> status_html("ok", "Added <mail>")
    '<div style="color:#1a7f37">✔ Added &lt;mail&gt;</div>'
    >>> status_html("", "")
    ''
    """
    if not kind:
        return ""
    if kind == "traceback":
        return (
            f'<div style="color:{_COLOURS[kind]}">✖ Unexpected error (a bug in labkit — please report it):</div>'
            '<pre style="color:#b42318;background:#fff5f5;padding:4px;white-space:pre-wrap;font-size:11px">'
            f"{html.escape(text)}</pre>"
        )
    return f'<div style="color:{_COLOURS[kind]}">{_ICONS[kind]} {html.escape(text)}</div>'


def table_html(df: pd.DataFrame, empty: str = "(none)", max_rows: int = 200) -> str:
    """A DataFrame as a compact HTML table (values escaped), or `empty` in grey when it has no rows."""
    if df.empty:
        return f'<div style="color:#777;font-style:italic">{html.escape(empty)}</div>'
    shown = df.head(max_rows).astype(object).where(df.head(max_rows).notna(), "")
    return str(shown.to_html(index=False, escape=True, border=0, classes="labkit-table"))


TABLE_CSS = (
    "<style>"
    ".labkit-table{border-collapse:collapse;font-size:12px}"
    ".labkit-table th{text-align:left;background:#eef2f7;padding:2px 8px;border-bottom:1px solid #ccd}"
    ".labkit-table td{padding:2px 8px;border-bottom:1px solid #eee;font-family:monospace;white-space:pre}"
    ".labkit-mono select{font-family:monospace;font-size:12px}"
    "</style>"
)


def required(field: str, value: str, example: str) -> str:
    """`value` stripped, or an `InvalidValue` naming the form field when it is blank.

    >>> required("Name", "  Internet ", "Internet")
    'Internet'
    """
    text = value.strip()
    if not text:
        raise InvalidValue(field, value, "is empty", f"Type a value, e.g. `{example}`.")
    return text


def lines(text: str) -> list[str]:
    """The non-blank lines (or comma-separated items) of a text box, stripped.

    >>> lines("0.0.0.0:25\\n\\n 192.168.8.0/24, 10.0.0.1 ")
    ['0.0.0.0:25', '192.168.8.0/24', '10.0.0.1']
    """
    return [item.strip() for line in text.splitlines() for item in line.split(",") if item.strip()]


def heading(text: str, level: int = 3) -> widgets.HTML:
    """A small title line."""
    return widgets.HTML(f'<h{level} style="margin:4px 0">{html.escape(text)}</h{level}>')


def button(description: str, tooltip: str = "", style: str = "", width: str = "auto") -> widgets.Button:
    """A button sized to its label."""
    return widgets.Button(
        description=description, tooltip=tooltip or description, button_style=style, layout=widgets.Layout(width=width)
    )


def show(widget: widgets.Widget, visible: bool) -> None:
    """Show or hide a widget without removing it (its values stay settable in tests)."""
    widget.layout.display = "" if visible else "none"


class LabForm(widgets.VBox):  # type: ignore[misc]  # ipywidgets is untyped
    """Base of every labkit widget: a status line, the last API call, and guarded actions.

    Args:
        lab: the running lab the widget works on.
        lab_var: the name of the variable holding the lab in the learner's
            notebook, used in the shown code (``lab`` by default).

    Attributes:
        last_call: the code of the last API call the widget made (None before any) — also when
            the lab refused it, since pasted into a cell it raises the same error. A check of the
            form's own (an empty field) makes no call and leaves it unchanged.
        last_result: what that call returned.
        last_error: the exception of the last action, or None when it succeeded.
        status_kind: ``ok``, ``error``, ``traceback``, ``info`` or empty.
        status_text: the status message as plain text (the traceback for ``traceback``).
    """

    def __init__(self, lab: Lab, *, lab_var: str = "lab", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.lab = lab
        self.lab_var = lab_var
        self.last_call: str | None = None
        self.last_result: Any = None
        self.last_error: BaseException | None = None
        self.status_kind: str = ""  # a StatusKind; typed `str` so that tests can compare it after each click
        self.status_text = ""
        self.status = widgets.HTML()
        self.call_box = widgets.HTML()
        self._busy = threading.Lock()
        self.add_class("labkit-widget")

    def __repr__(self) -> str:
        # Short and stable: a notebook's text/plain output of a widget cell is compared by nbval.
        return f"<{type(self).__name__} of lab {getattr(self.lab, 'name', '?')!r}>"

    # -- status ----------------------------------------------------------------------------
    def set_status(self, kind: StatusKind, text: str) -> None:
        """Show a status message (plain text; escaped for display)."""
        self.status_kind, self.status_text = kind, text
        self.status.value = status_html(kind, text)

    def show_error(self, exc: BaseException) -> None:
        """A `LabkitError` as a status message; anything else as a traceback in the widget."""
        self.last_error = exc
        if isinstance(exc, LabkitError):
            self.set_status("error", str(exc))
        else:
            text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            self.set_status("traceback", text)

    def show_call(self, call: ApiCall, title: str = "Equivalent API call") -> str:
        """Display `call` as code with a copy button, remember it in `last_call`, and return the code."""
        code = call.code(self.lab_var)
        self.last_call = code
        self.call_box.value = code_html(code, title)
        return code

    # -- guarded work ----------------------------------------------------------------------------
    def guard(self, work: Callable[[], object]) -> bool:
        """Run `work`, turning any exception into the status line. Returns True when it succeeded."""
        try:
            work()
        except Exception as exc:  # shown in the widget: a callback's exception would otherwise vanish
            self.show_error(exc)
            return False
        return True

    def perform(
        self,
        buttons: widgets.Button | Iterable[widgets.Button],
        build: Callable[[], ApiCall],
        done: Callable[[Any], str] | str,
        after: Callable[[Any], object] | None = None,
    ) -> bool:
        """Check the form, make one API call, and report — the life cycle of every action.

        Args:
            buttons: disabled while the action runs (so a double click cannot act twice).
            build: reads the form and returns the call; raises `LabkitError` on bad input.
            done: the success message, or a function of the call's result making it.
            after: run on success with the result (e.g. refresh the tables).

        Returns:
            True when the call succeeded.
        """
        group = [buttons] if isinstance(buttons, widgets.Button) else list(buttons)
        if not self._busy.acquire(blocking=False):
            self.set_status("info", "Still working on the previous action…")
            return False
        previous = [b.disabled for b in group]
        for b in group:
            b.disabled = True
        try:
            try:
                call = build()
            except Exception as exc:  # the form's own checks: nothing was called, nothing changed
                self.show_error(exc)
                return False
            self.set_status("info", "Working…")
            self.show_call(call)
            try:
                result = call.run(self.lab)
            except Exception as exc:
                self.show_error(exc)
                return False
            self.last_result, self.last_error = result, None
            self.set_status("ok", done(result) if callable(done) else done)
            if after is not None:
                self.guard(lambda: after(result))
            return True
        finally:
            for b, was in zip(group, previous, strict=True):
                b.disabled = was
            self._busy.release()

    def query(self, call: ApiCall) -> Any:
        """Make a read-only call (to fill a table); errors propagate to the caller's `guard`."""
        return call.run(self.lab)

    def footer(self) -> list[widgets.Widget]:
        """The status line and the call box, for the end of a form's children."""
        return [self.status, self.call_box]
