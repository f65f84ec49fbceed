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
