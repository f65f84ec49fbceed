"""IPython cell magics: ``%%ems [server]`` (Exchange Management Shell) and ``%%cmd`` (the DNS server's prompt).

Register them with ``register(get_ipython())`` (labkit does it when imported in
IPython). The cell runs against the lab most recently started with
`labkit.start()`; ``%%ems mail.xutonglin.com`` connects to that server. The cell's
value is the `ShellResult`, so it renders as the console text and the Python
call beside it.
"""

from __future__ import annotations

import shlex
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the lab's modules load when a cell runs, so registering the magics at import stays cheap
    from labkit.core import LabCore
    from labkit.shell.result import ShellResult


def current_lab() -> LabCore:
    """The lab the magics talk to: the most recently started one still running.

    Raises:
        LabNotRunning: no lab is running.
    """
    from labkit.core import running_labs
    from labkit.errors import LabNotRunning

    labs = [lab for lab in running_labs() if lab.running]
    if not labs:
        raise LabNotRunning("(none started)")
    return labs[-1]


def ems_magic(line: str, cell: str) -> ShellResult:
    """``%%ems [server]``: run the cell's cmdlets on `server` (the lab's first Exchange server by default)."""
    from labkit.shell.ems import run_ems

    words = shlex.split(line)
    return run_ems(current_lab(), cell.rstrip("\n"), server=words[0] if words else None)


def cmd_magic(line: str, cell: str) -> ShellResult:
    """``%%cmd``: run the cell's nslookup / dnscmd lines at the DNS server's prompt."""
    from labkit.shell.cmd import run_cmd

    return run_cmd(current_lab(), cell.rstrip("\n"))


def register(ipython: Any) -> None:
    """Register ``%%ems`` and ``%%cmd`` with an IPython shell (safe to call again)."""
    ipython.register_magic_function(ems_magic, magic_kind="cell", magic_name="ems")
    ipython.register_magic_function(cmd_magic, magic_kind="cell", magic_name="cmd")


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext labkit.shell.magics``."""
    register(ipython)
