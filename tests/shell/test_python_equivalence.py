"""Each cmdlet and the Python call shown beside it do the same thing: one runs on a lab, the other on a twin."""

from __future__ import annotations

import ast
from typing import Any

import pandas as pd
import pytest

from labkit.lab import Lab
from labkit.shell import cmdlet_to_python, run_ems
from tests.conftest import StartLab

from .conftest import ALLEN, CONTOSO, SENDER, XUTONGLIN, same, state


def run_python(lab: Lab, code: str) -> Any:
    """Execute `code` with ``lab`` and ``pd`` bound; the value of its last line when that is an expression."""
    tree = ast.parse(code)
    namespace: dict[str, Any] = {"lab": lab, "pd": pd}
    last = tree.body[-1] if isinstance(tree.body[-1], ast.Expr) else None
    body = tree.body[:-1] if last is not None else tree.body
    exec(compile(ast.Module(body=body, type_ignores=[]), "<python>", "exec"), namespace)
    if last is not None:
        return eval(compile(ast.Expression(last.value), "<python>", "eval"), namespace)
    return None


# (step, server, setup, command): setup puts a message in a queue where the command needs one.
PAIRS = [
    (3, CONTOSO, "", 'New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*" -SourceTransportServers MAIL'),
    (3, CONTOSO, "", "New-SendConnector -Internet -Name MySendConnector -AddressSpaces contoso.com,fabrikam.com"),
    (3, CONTOSO, "", "New-SendConnector Partners -AddressSpaces 'SMTP:fabrikam.com;5' -DNSRoutingEnabled $false -SmartHosts 100.100.100.100"),
    (5, CONTOSO, "", "Set-SendConnector Internet -AddressSpaces 'SMTP:*;5' -Enabled:$false -Port 2525"),
    (5, CONTOSO, "", "Remove-SendConnector Internet -Confirm:$false"),
    (4, XUTONGLIN, "", 'Set-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups AnonymousUsers,ExchangeUsers,ExchangeServers,ExchangeLegacyServers'),
    (1, CONTOSO, "", 'Set-ReceiveConnector "Default MAIL" -Banner "220 SMTP Server Ready" -MaxRecipientsPerMessage 5'),
    (1, CONTOSO, "", "New-ReceiveConnector Relay -Bindings 0.0.0.0:2525 -RemoteIPRanges 100.100.100.100 -Usage Internet"),
    (1, CONTOSO, "", "Remove-ReceiveConnector 'MAIL\\Client MAIL'"),
    (1, CONTOSO, "", "New-AcceptedDomain Fabrikam -DomainName fabrikam.com -DomainType InternalRelay"),
    (1, CONTOSO, "", "New-Mailbox -Name 李四 -UserPrincipalName lisi@contoso.com"),
    (3, CONTOSO, "claim", "Retry-Queue -Identity MAIL\\Unreachable -Resubmit $true"),
    (3, CONTOSO, "mail", "Get-Message -Queue MAIL\\Unreachable | Remove-Message -WithNDR $false"),
    (3, CONTOSO, "mail", "Remove-Message -Filter {FromAddress -like '*@contoso.com'} -WithNDR $true"),
    (4, CONTOSO, "retry", "Get-Queue | Where-Object { $_.Status -eq 'Retry' } | Suspend-Queue"),
    (4, CONTOSO, "fixed", "Retry-Queue -Filter {Status -eq 'Retry'}"),
    (4, CONTOSO, "suspended", "Resume-Queue -Identity xutonglin.com"),
    (5, CONTOSO, "", "Get-SendConnector | Set-SendConnector -Enabled $false"),
    (1, CONTOSO, "", "Get-ReceiveConnector | Where-Object { $_.Identity -like '*Client*' } | Set-ReceiveConnector -Fqdn client.contoso.com"),
]


def prepare(lab: Lab, setup: str) -> None:
    if setup in ("retry", "fixed", "suspended"):
        lab.dns.remove_record("xutonglin.com", "@", "MX")
    if setup:
        lab.send_mail(SENDER, ALLEN, "pair", "body")
        lab.settle()
    if setup == "fixed":  # the MX is back: a retry now connects (and meets xutonglin's 530)
        lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
    if setup == "suspended":
        lab.server(CONTOSO).suspend_queue("xutonglin.com")
    if setup == "claim":  # contoso now claims xutonglin.com: routed again, allen is unknown here (5.1.1)
        lab.server(CONTOSO).new_accepted_domain("Xutonglin", "xutonglin.com")


@pytest.mark.parametrize(("step", "server", "setup", "command"), PAIRS, ids=[p[3][:60] for p in PAIRS])
def test_cmdlet_and_python_do_the_same(start_lab: StartLab, step: int, server: str, setup: str, command: str) -> None:
    shell_lab, python_lab = start_lab(step=step), start_lab(step=step)
    prepare(shell_lab, setup)
    prepare(python_lab, setup)
    before = state(shell_lab)
    result = run_ems(shell_lab, command, server=server)
    assert result.ok, result.text
    code = cmdlet_to_python(command, server)
    assert result.python == code
    run_python(python_lab, code)
    shell_lab.settle()
    python_lab.settle()
    assert not same(before, state(shell_lab)), "the command changed nothing: the pair proves nothing"
    assert same(state(shell_lab), state(python_lab)), code


GETS = [
    (1, CONTOSO, "Get-ReceiveConnector", "Identity"),
    (1, XUTONGLIN, "Get-ReceiveConnector 'Default MAIL'", "Identity"),
    (5, CONTOSO, "Get-SendConnector Internet", "Identity"),
    (1, CONTOSO, "Get-AcceptedDomain", "DomainName"),
    (1, CONTOSO, "Get-Mailbox contoso", "PrimarySmtpAddress"),
    (1, XUTONGLIN, "Get-Mailbox allen@xutonglin.com", "Alias"),
    (1, CONTOSO, "Get-AcceptedDomain contoso.com", "Name"),
    (3, CONTOSO, "Get-Message MAIL\\Unreachable\\1", "Subject"),
    (3, CONTOSO, "Get-Queue", "Identity"),
    (3, CONTOSO, "Get-Queue -Filter {MessageCount -gt 0}", "Identity"),
    (3, CONTOSO, "Get-Queue | Where-Object { $_.Identity -like '*unreach*' } | Get-Message", "Identity"),
    (3, CONTOSO, "Get-Message -Queue MAIL\\Unreachable", "Subject"),
    (5, CONTOSO, "Get-MessageTrackingLog -Sender contoso@contoso.com -EventId SEND", "MessageId"),
    (5, XUTONGLIN, "Get-MessageTrackingLog -Recipients allen@xutonglin.com | Sort-Object EventId -Descending", "EventId"),
    (5, CONTOSO, "Get-MessageTrackingLog -ResultSize 2 | Select-Object EventId,Source", "EventId"),
]


@pytest.mark.parametrize(("step", "server", "command", "column"), GETS, ids=[g[2][:60] for g in GETS])
def test_get_cmdlets_and_python_return_the_same_rows(
    start_lab: StartLab, step: int, server: str, command: str, column: str
) -> None:
    lab = start_lab(step=step)
    lab.send_mail(SENDER, ALLEN, "rows", "body")
    lab.settle()
    result = run_ems(lab, command, server=server)
    assert result.ok, result.text
    df = run_python(lab, cmdlet_to_python(command, server))
    assert isinstance(df, pd.DataFrame)
    shown = [o.props[column] for o in result.objects]
    assert shown, "an empty result proves nothing"
    assert shown == list(df[column])


ROUND_TRIPS = [
    (("new_send_connector", "Internet"), {"address_spaces": ["*"], "usage": "Internet"},
     "New-SendConnector -Name Internet -AddressSpaces * -Usage Internet",
     'lab.server("mail.contoso.com").new_send_connector("Internet", address_spaces=["*"], usage="Internet")'),
    (("set_receive_connector", "MAIL\\Default MAIL"), {"permission_groups": ["AnonymousUsers", "ExchangeUsers"]},
     "Set-ReceiveConnector 'MAIL\\Default MAIL' -PermissionGroups AnonymousUsers,ExchangeUsers",
     'lab.server("mail.contoso.com").set_receive_connector("MAIL\\\\Default MAIL", '
     'permission_groups=["AnonymousUsers", "ExchangeUsers"])'),
    (("retry_queue", "MAIL\\Unreachable"), {"resubmit": True},
     "Retry-Queue MAIL\\Unreachable -Resubmit $true",
     'lab.server("mail.contoso.com").retry_queue("MAIL\\\\Unreachable", resubmit=True)'),
    (("remove_message", "MAIL\\1\\3"), {"with_ndr": False},
     "Remove-Message MAIL\\1\\3 -WithNDR $false",
     'lab.server("mail.contoso.com").remove_message("MAIL\\\\1\\\\3", with_ndr=False)'),
    (("new_mailbox", "王五@contoso.com"), {"display_name": "王 五"},
     "New-Mailbox -UserPrincipalName 王五@contoso.com -Name '王 五'",
     'lab.server("mail.contoso.com").new_mailbox("王五@contoso.com", display_name="王 五")'),
]  # fmt: skip


@pytest.mark.parametrize(("call", "kwargs", "cmdlet", "python"), ROUND_TRIPS, ids=[r[2][:50] for r in ROUND_TRIPS])
def test_python_to_cmdlet_and_back(call: tuple[str, ...], kwargs: dict[str, Any], cmdlet: str, python: str) -> None:
    from labkit.shell import python_to_cmdlet

    assert python_to_cmdlet(*call, **kwargs) == cmdlet
    assert cmdlet_to_python(cmdlet) == python


PYTHON_TEXTS = [
    ("Get-Message -Queue MAIL\\Unreachable | Remove-Message -WithNDR $false",
     'server = lab.server("mail.contoso.com")\n'
     'df = server.get_message("MAIL\\\\Unreachable")\n'
     'for identity in df["Identity"]:\n'
     "    server.remove_message(identity, with_ndr=False)"),
    ("Get-Queue -Server mail.xutonglin.com | ft Identity,Status",
     'server = lab.server("mail.xutonglin.com")\ndf = server.get_queue()\ndf = df[["Identity", "Status"]]\ndf'),
    ("Retry-Queue -Filter {Status -eq 'Retry'}",
     'server = lab.server("mail.contoso.com")\ndf = server.get_queue()\n'
     'df = df[(df["Status"].astype(str).str.lower() == "retry")]\n'
     'for identity in df["Identity"]:\n    server.retry_queue(identity)'),
    ("Get-Queue; Get-SendConnector",
     'lab.server("mail.contoso.com").get_queue()\n\nlab.server("mail.contoso.com").get_send_connector()'),
]  # fmt: skip


@pytest.mark.parametrize(("command", "python"), PYTHON_TEXTS, ids=[p[0][:50] for p in PYTHON_TEXTS])
def test_python_text(command: str, python: str) -> None:
    assert cmdlet_to_python(command) == python
