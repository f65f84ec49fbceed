"""The ``%%ems`` and ``%%cmd`` cell magics in a real IPython shell, against the lab last started."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell

from labkit.shell.magics import register
from labkit.shell.result import ShellResult
from tests.conftest import StartLab

from .conftest import XUTONGLIN


@pytest.fixture
def ipython() -> Iterator[Any]:
    shell = InteractiveShell.instance()
    register(shell)
    yield shell
    InteractiveShell.clear_instance()


def test_ems_magic_runs_on_the_named_server(start_lab: StartLab, ipython: Any) -> None:
    lab = start_lab(step=4)
    result = ipython.run_cell_magic(
        "ems", XUTONGLIN,
        'Set-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups AnonymousUsers,ExchangeUsers,ExchangeServers,'
        "ExchangeLegacyServers\nGet-ReceiveConnector 'Default MAIL' | fl Identity,PermissionGroups\n",
    )  # fmt: skip
    assert isinstance(result, ShellResult) and result.ok
    assert result.text == (
        "Identity         : MAIL\\Default MAIL\n"
        "PermissionGroups : AnonymousUsers, ExchangeUsers, ExchangeServers, ExchangeLegacyServers"
    )
    groups = lab.server(XUTONGLIN).get_receive_connector("Default MAIL").iloc[0]["PermissionGroups"]
    assert groups.startswith("AnonymousUsers")


def test_cmd_magic(start_lab: StartLab, ipython: Any) -> None:
    lab = start_lab(step=1)
    result = ipython.run_cell_magic("cmd", "", "dnscmd /RecordAdd xutonglin.com mail A 100.100.100.254\n")
    assert result.text == "Add A Record for mail.xutonglin.com at xutonglin.com\nCommand completed successfully."
    assert lab.dns.has_record("xutonglin.com", "mail", "A", "100.100.100.254")


def test_an_error_is_shown_not_raised(start_lab: StartLab, ipython: Any) -> None:
    start_lab(step=1)
    result = ipython.run_cell_magic("ems", "", "Get-Foo")
    assert not result.ok and result.text.startswith("Get-Foo : The term 'Get-Foo' is not recognized")


def test_importing_labkit_in_ipython_registers_the_magics() -> None:
    # A fresh interpreter, so the import really runs: in IPython the magics exist right after `import labkit`.
    import subprocess
    import sys

    code = (
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "shell = InteractiveShell.instance()\n"
        "assert shell.find_cell_magic('ems') is None\n"
        "import labkit\n"
        "print(sorted(n for n in ('ems', 'cmd') if shell.find_cell_magic(n) is not None))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "['cmd', 'ems']"


def test_importing_labkit_outside_ipython_registers_nothing() -> None:
    import subprocess
    import sys

    code = "import sys, labkit\nprint('IPython' in sys.modules)\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "False"


def test_lab_ems_and_cmd_are_the_shell_on_that_lab(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    listed = lab.ems("Get-AcceptedDomain | ft DomainName", server=XUTONGLIN)
    assert listed.ok and "xutonglin.com" in listed.text and "contoso.com" not in listed.text
    added = lab.cmd("dnscmd /RecordAdd xutonglin.com mail A 100.100.100.254")
    assert added.text.endswith("Command completed successfully.")
    assert lab.dns.has_record("xutonglin.com", "mail", "A", "100.100.100.254")
