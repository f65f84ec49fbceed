"""The product's command lines: the Exchange Management Shell (``lab.ems``, ``%%ems``) and the Command Prompt
of the DNS server (``lab.cmd``, ``%%cmd``: nslookup and dnscmd)::

    result = run_ems(lab, 'New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*"')
    print(result)           # the console: prompt, cmdlet, PowerShell's output
    result.python           # 'lab.server("mail.contoso.com").new_send_connector("Internet", ...)'

Each run returns a `ShellResult`: the console's text (PowerShell's layout, or
dnscmd's and nslookup's), the objects written, the errors, and the equivalent
Python call. A statement that does not parse or bind changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from labkit.core import LabCore
    from labkit.shell.ems import run_ems
    from labkit.shell.python import cmdlet_to_python, python_to_cmdlet
    from labkit.shell.result import ShellResult

# Loaded on first use, so that registering the magics (labkit.shell.magics) when labkit is imported stays cheap.
_LAZY = {
    "run_ems": "labkit.shell.ems",
    "cmdlet_to_python": "labkit.shell.python",
    "python_to_cmdlet": "labkit.shell.python",
    "ShellResult": "labkit.shell.result",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'labkit.shell' has no attribute {name!r}")


def run_cmd(lab: LabCore, command: str) -> ShellResult:
    """Run Command Prompt lines (``nslookup ...``, ``dnscmd ...``) against the lab; see `labkit.shell.cmd`."""
    from labkit.shell.cmd import run_cmd as run

    return run(lab, command)


__all__ = ["ShellResult", "cmdlet_to_python", "python_to_cmdlet", "run_cmd", "run_ems"]
