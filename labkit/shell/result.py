"""`ShellResult`: what one console run printed, the objects it wrote, and the equivalent Python call."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from labkit.shell.formatting import PSObject

EMS_PROMPT = "[PS] C:\\Windows\\system32>"
CMD_PROMPT = "C:\\>"


@dataclass
class ShellResult:
    """One run of ``lab.ems(...)`` or ``lab.cmd(...)``.

    Attributes:
        console: ``Exchange Management Shell`` or ``Command Prompt``.
        command: what was typed.
        text: what the console printed (output and errors, in order), without the prompt line.
        objects: the objects the last statement wrote (Exchange Management Shell only).
        errors: each error record's text.
        python: the equivalent Python call(s) (``""`` when there is none, e.g. after a parse error).
        where: the server the shell is connected to (or the DNS server for the Command Prompt).
        prompt: the console's prompt.
        blocks: (line typed, what it printed) per line, for the transcript.
    """

    console: str
    command: str
    text: str
    objects: list[PSObject] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    python: str = ""
    where: str = ""
    prompt: str = EMS_PROMPT
    blocks: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no error was printed."""
        return not self.errors

    def frame(self) -> pd.DataFrame:
        """The objects as a DataFrame (one row each, properties as columns)."""
        return pd.DataFrame([o.props for o in self.objects])

    def transcript(self) -> str:
        """Prompt, command and output, as the console window shows them."""
        if self.blocks:
            return "\n".join(f"{self.prompt}{line}" + (f"\n{out}" if out else "") for line, out in self.blocks)
        lines = [f"{self.prompt}{line}" if i == 0 else f">> {line}" for i, line in enumerate(self.command.splitlines())]
        return "\n".join([*lines, self.text] if self.text else lines)

    def __str__(self) -> str:
        return self.transcript()

    def __repr__(self) -> str:
        return self.transcript()

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self.transcript())

    def _repr_html_(self) -> str:
        title = f"{self.console} — {self.where}" if self.where else self.console
        status = "completed" if self.ok else "failed"
        body = html.escape(self.transcript())
        for error in self.errors:  # the console shows error records in red
            shown = html.escape(error)
            if shown and shown in body:
                body = body.replace(shown, f'<span style="color:#c00">{shown}</span>')
        parts = [
            f'<div class="labkit-console"><b>{html.escape(title)}</b> · command {status}',
            f"<pre>{body}</pre>",
        ]
        if self.python:
            parts.append(f"<div>Python:</div><pre>{html.escape(self.python)}</pre>")
        parts.append("</div>")
        return "\n".join(parts)
