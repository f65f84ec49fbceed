"""Every cmdlet against a real lab: output in the product's layout, and the lab's state afterwards."""

from __future__ import annotations

import smtplib

import pytest

from labkit.lab import Lab
from labkit.shell import run_ems
from tests.conftest import StartLab

from .conftest import ALLEN, CONTOSO, SENDER, XUTONGLIN, same, state


def ok(lab: Lab, command: str, server: str | None = None) -> str:
    result = run_ems(lab, command, server=server)
    assert result.ok, result.text
    return result.text


def test_documented_new_send_connector(start_lab: StartLab) -> None:
    lab = start_lab(step=3)
    text = ok(lab, 'New-SendConnector -Name "Internet" -Usage Internet -AddressSpaces "*" -SourceTransportServers MAIL')
    assert text == "Identity AddressSpaces Enabled\n-------- ------------- -------\nInternet {SMTP:*;1}    True"
    row = lab.server(CONTOSO).get_send_connector("Internet").iloc[0]
    assert (row["AddressSpaces"], row["Usage"], row["SourceTransportServers"]) == ("{SMTP:*;1}", "Internet", "{MAIL}")


def test_the_emcs_own_command_line_runs(start_lab: StartLab) -> None:
    # The New Send Connector wizard's completion page shows this form (fidelity audit row 43).
    lab = start_lab(step=3)
    ok(lab, "New-SendConnector -Name 'Internet' -Usage 'Internet' -AddressSpaces 'SMTP:*;1' -IsScopedConnector $false "
            "-DNSRoutingEnabled $true -UseExternalDNSServersEnabled $false -SourceTransportServers 'MAIL'")  # fmt: skip
    assert lab.server(CONTOSO).get_send_connector("Internet").iloc[0]["DNSRoutingEnabled"]


def test_documented_set_receive_connector_lets_anonymous_mail_in(start_lab: StartLab) -> None:
    lab = start_lab(step=4)
    line = ('Set-ReceiveConnector "MAIL\\Default MAIL" '
            "-PermissionGroups AnonymousUsers,ExchangeUsers,ExchangeServers,ExchangeLegacyServers")  # fmt: skip
    assert ok(lab, line, server=XUTONGLIN) == ""  # Set- cmdlets write nothing
    groups = lab.server(XUTONGLIN).get_receive_connector("MAIL\\Default MAIL").iloc[0]["PermissionGroups"]
    assert groups == "AnonymousUsers, ExchangeUsers, ExchangeServers, ExchangeLegacyServers"
    lab.send_mail(SENDER, ALLEN, "via the shell", "hello")
    lab.settle()
    assert len(lab.mailbox(ALLEN)) == 1
    assert lab.mailbox(ALLEN).message(0)["Subject"] == "via the shell"


def test_send_connector_verbs(start_lab: StartLab) -> None:
    lab = start_lab(step=3)
    s = lab.server(CONTOSO)
    ok(lab, "New-SendConnector -Internet -Name MySendConnector -AddressSpaces contoso.com,fabrikam.com")
    assert s.get_send_connector("MySendConnector").iloc[0]["AddressSpaces"] == "{SMTP:contoso.com;1, SMTP:fabrikam.com;1}"
    assert ok(lab, "Set-SendConnector MySendConnector -AddressSpaces 'SMTP:*;5' -Enabled:$false -MaxMessageSize 20MB") == ""
    row = s.get_send_connector("MySendConnector").iloc[0]
    assert (row["AddressSpaces"], row["Enabled"], row["MaxMessageSize"]) == ("{SMTP:*;5}", False, "20 MB (20,971,520 bytes)")
    assert ok(lab, "Get-SendConnector MySendConnector | fl Identity,Enabled,AddressSpaces") == (
        "Identity      : MySendConnector\nEnabled       : False\nAddressSpaces : {SMTP:*;5}"
    )
    assert ok(lab, "Remove-SendConnector MySendConnector -Confirm:$false") == ""
    assert s.get_send_connector().empty


def test_receive_connector_verbs(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    s = lab.server(CONTOSO)
    text = ok(lab, "New-ReceiveConnector -Name Relay -Usage Custom -Bindings 0.0.0.0:2525 -RemoteIPRanges 100.100.100.100")
    assert text == "Identity   Bindings       Enabled\n--------   --------       -------\nMAIL\\Relay {0.0.0.0:2525} True"
    assert ok(lab, "Get-ReceiveConnector") == (
        "Identity          Bindings       Enabled\n"
        "--------          --------       -------\n"
        "MAIL\\Default MAIL {0.0.0.0:25}   True\n"
        "MAIL\\Client MAIL  {0.0.0.0:587}  True\n"
        "MAIL\\Relay        {0.0.0.0:2525} True"
    )
    ok(lab, "Set-ReceiveConnector MAIL\\Relay -PermissionGroups AnonymousUsers -MaxRecipientsPerMessage 10")
    row = s.get_receive_connector("MAIL\\Relay").iloc[0]
    assert (row["PermissionGroups"], row["MaxRecipientsPerMessage"]) == ("AnonymousUsers", 10)
    ok(lab, "Remove-ReceiveConnector 'MAIL\\Relay' -Confirm:$false")
    assert list(s.get_receive_connector()["Identity"]) == ["MAIL\\Default MAIL", "MAIL\\Client MAIL"]


def test_banner_example_changes_the_greeting_on_the_wire(start_lab: StartLab) -> None:
    # Set-ReceiveConnector's page: -Banner "220 SMTP Server Ready" (on the lab's connector name).
    lab = start_lab(step=1)
    ok(lab, 'Set-ReceiveConnector -Identity "Default MAIL" -Banner "220 SMTP Server Ready"')
    host, port = lab.endpoint("100.100.100.10", 25)
    client = smtplib.SMTP(timeout=30)
    code, greeting = client.connect(host, port)
    client.quit()
    assert (code, greeting) == (220, b"SMTP Server Ready")
    ok(lab, 'Set-ReceiveConnector "Default MAIL" -Banner $null')
    assert lab.server(CONTOSO).get_receive_connector("Default MAIL").iloc[0]["Banner"] == ""


def test_accepted_domains_and_mailboxes_with_chinese_names(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    assert ok(lab, "New-AcceptedDomain -Name Fabrikam -DomainName fabrikam.com") == (
        "Name     DomainName   DomainType    Default\n----     ----------   ----------    -------\n"
        "Fabrikam fabrikam.com Authoritative False"
    )
    assert ok(lab, "Get-AcceptedDomain fabrikam.com | ft Name,DomainType") == (
        "Name     DomainType\n----     ----------\nFabrikam Authoritative"
    )
    text = ok(lab, "New-Mailbox -Name 张三 -UserPrincipalName zhangsan@fabrikam.com -Password 'P@ssw0rd1'")
    assert text == "Name Alias    ServerName ProhibitSendQuota\n---- -----    ---------- -----------------\n张三   zhangsan mail       unlimited"
    assert lab.server(CONTOSO).has_mailbox("zhangsan@fabrikam.com")
    assert ok(lab, "Get-Mailbox zhangsan | fl Name,PrimarySmtpAddress") == (
        "Name               : 张三\nPrimarySmtpAddress : zhangsan@fabrikam.com"
    )


def test_unreachable_queue_messages_and_remove_message(start_lab: StartLab) -> None:
    lab = start_lab(step=3)  # no send connector yet: mail to xutonglin waits in Unreachable (facts §9 step 2)
    lab.send_mail(SENDER, ALLEN, "stuck", "body")
    lab.settle()
    assert ok(lab, "Get-Queue") == (
        "Identity         DeliveryType Status MessageCount NextHopDomain\n"
        "--------         ------------ ------ ------------ -------------\n"
        "MAIL\\Submission  Undefined    Ready  0            Submission\n"
        "MAIL\\Unreachable Unreachable  Ready  1            Unreachable Domain"
    )
    assert ok(lab, "Get-Queue -Filter {MessageCount -gt 0} | fl Identity,LastError") == (
        "Identity  : MAIL\\Unreachable\nLastError : A matching connector cannot be found to route the external recipient"
    )
    assert ok(lab, "Get-Queue | Where-Object { $_.NextHopDomain -like 'Unreach*' } | Select-Object Identity") == (
        "Identity\n--------\nMAIL\\Unreachable"
    )
    message = ok(lab, "Get-Message -Queue MAIL\\Unreachable | ft FromAddress,Status,Subject,Recipients")
    assert message == (
        "FromAddress         Status Subject Recipients\n"
        "-----------         ------ ------- ----------\n"
        "contoso@contoso.com Retry  stuck   {allen@xutonglin.com}"
    )
    result = run_ems(lab, "Get-Queue | Retry-Queue -Resubmit $true")
    # Submission cannot be resubmitted (a non-terminating error); Unreachable is routed again and stays there.
    assert len(result.errors) == 1 and "Submission" in result.errors[0]
    assert "+ FullyQualifiedErrorId : DataValidationException,Microsoft.Exchange.Management.QueueViewerTasks.RetryQueue" in result.text
    lab.settle()
    assert ok(lab, "Get-Message -Queue MAIL\\Unreachable | Remove-Message -WithNDR $false") == ""
    assert lab.server(CONTOSO).get_message().empty
    track = lab.server(CONTOSO).get_message_tracking_log(event_id="FAIL")
    assert list(track["Source"]) == ["ADMIN"]
    assert list(track["RecipientStatus"]) == ["550 4.3.2 QUEUE.Admin; message deleted by administrative action"]


def test_retry_suspend_resume_on_a_delivery_queue(start_lab: StartLab) -> None:
    lab = start_lab(step=4)
    lab.dns.remove_record("xutonglin.com", "@", "MX")  # no MX, no apex A: the queue goes to Retry (facts §9 2')
    lab.send_mail(SENDER, ALLEN, "waiting", "body")
    lab.settle()
    text = ok(lab, "Get-Queue -Filter {Status -eq 'Retry'} | fl NextHopDomain,Status,MessageCount")
    assert text == "NextHopDomain : xutonglin.com\nStatus        : Retry\nMessageCount  : 1"
    ok(lab, "Get-Queue | Where-Object { $_.NextHopDomain -eq 'xutonglin.com' } | Suspend-Queue -Confirm:$false")
    assert list(lab.server(CONTOSO).get_queue(identity="xutonglin.com")["Status"]) == ["Suspended"]
    ok(lab, "Resume-Queue -Identity xutonglin.com")
    lab.settle()
    lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)
    ok(lab, "Retry-Queue -Filter {Status -eq 'Retry'} -Server MAIL")
    lab.settle()
    # Now it reaches xutonglin, whose Default connector still refuses anonymous mail: 530 → NDR, queue empty.
    assert lab.server(CONTOSO).get_message().empty
    text = ok(lab, "Get-MessageTrackingLog -EventId FAIL -Sender contoso@contoso.com | fl EventId,RecipientStatus")
    assert text == "EventId         : FAIL\nRecipientStatus : {530 5.7.1 Client was not authenticated}"


def test_message_tracking_log_parameters(start_lab: StartLab) -> None:
    lab = start_lab(step=5)
    message_id = lab.send_mail(SENDER, ALLEN, "tracked", "body")
    lab.settle()
    assert ok(lab, f"Get-MessageTrackingLog -MessageId '{message_id}' -EventId SEND") == (
        "EventId Source Sender              Recipients            MessageSubject\n"
        "------- ------ ------              ----------            --------------\n"
        "SEND    SMTP   contoso@contoso.com {allen@xutonglin.com} tracked"
    )
    on_xutonglin = ok(lab, "Get-MessageTrackingLog -Server mail.xutonglin.com -Recipients allen@xutonglin.com | ft EventId,Source")
    assert on_xutonglin == "EventId Source\n------- ------\nRECEIVE SMTP\nDELIVER STOREDRIVER"
    assert ok(lab, 'Get-MessageTrackingLog -Start "01/01/2000 00:00" -End "01/02/2000 00:00"') == ""
    assert ok(lab, 'Get-MessageTrackingLog -Start "01/01/2000 9:00AM" -ResultSize 1 | ft EventId') == "EventId\n-------\n" + (
        lab.server(CONTOSO).get_message_tracking_log().iloc[0]["EventId"]
    )
    bad = run_ems(lab, "Get-MessageTrackingLog -EventId NOPE")
    assert not bad.ok and "is not a tracking EventId" in bad.text


def test_pipelines_and_utilities(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    assert ok(lab, "Get-ReceiveConnector | Sort-Object Identity | Select-Object Identity,Enabled") == (
        "Identity          Enabled\n--------          -------\nMAIL\\Client MAIL  True\nMAIL\\Default MAIL True"
    )
    assert ok(lab, "Get-ReceiveConnector | Select-Object -First 1 | fl Identity") == "Identity : MAIL\\Default MAIL"
    assert ok(lab, "get-receiveconnector | ? {$_.Identity -like '*client*'} | ft identity") == (
        "Identity\n--------\nMAIL\\Client MAIL"
    )
    assert ok(lab, "Get-Queue | ft") == ok(lab, "Get-Queue")
    two = run_ems(lab, "New-SendConnector A -AddressSpaces a.com\nNew-SendConnector B -AddressSpaces b.com")
    assert two.ok and [o.props["Identity"] for o in two.objects] == ["B"]
    assert ok(lab, "Get-SendConnector | Remove-SendConnector -Confirm:$false") == ""
    assert lab.server(CONTOSO).get_send_connector().empty


BAD = [
    "Get-Foo",
    "New-SendConnector -Name Internet -AddressSpaces * -Bogus 1",
    "New-SendConnector -Name Internet",
    "New-SendConnector -Name Internet -AddressSpaces '*contoso.com'",
    "New-SendConnector -Name Internet -AddressSpaces * -SourceTransportServers EX1",
    "Set-ReceiveConnector 'MAIL\\Default MAIL' -PermissionGroups Anonymous",
    "Set-ReceiveConnector 'MAIL\\Default MAIL' -P AnonymousUsers",
    "Set-ReceiveConnector 'MAIL\\Nope' -Enabled $false",
    "New-SendConnector -Name Internet -AddressSpaces * | Format-List -Nope",
    "Get-SendConnector | Remove-SendConnector -WhatIf",
    "New-Mailbox -Name x -UserPrincipalName x@nowhere.example",
    "Set-SendConnector Internet -IsScopedConnector $true",
    "Set-ReceiveConnector 'Default MAIL' -ConnectionTimeout 00:15:00",
    "New-SendConnector -Name Internet -AddressSpaces * ; Get-Queue 'unterminated",
]


@pytest.mark.parametrize("line", BAD)
def test_nothing_changes_on_error(start_lab: StartLab, line: str) -> None:
    lab = start_lab(step=4)
    before = state(lab)
    result = run_ems(lab, line)
    assert not result.ok
    assert "FullyQualifiedErrorId" in result.text or "missing the terminator" in result.text
    assert same(before, state(lab))


def test_unknown_server_for_the_shell(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    from labkit.errors import UnknownObject

    with pytest.raises(UnknownObject):
        run_ems(lab, "Get-Queue", server="mail.fabrikam.com")
    result = run_ems(lab, "Get-Queue -Server mail.fabrikam.com")
    assert not result.ok and "No Exchange server `mail.fabrikam.com`" in result.text


def test_result_renders_console_and_python(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    result = run_ems(lab, "Get-AcceptedDomain", server=XUTONGLIN)
    assert str(result).startswith("[PS] C:\\Windows\\system32>Get-AcceptedDomain\nName ")
    html = result._repr_html_()
    assert "Exchange Management Shell — mail.xutonglin.com" in html
    assert 'lab.server(&quot;mail.xutonglin.com&quot;).get_accepted_domain()' in html
    assert list(result.frame()["DomainName"]) == ["xutonglin.com"]


def test_a_rejected_value_in_the_task_error_layout(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    result = run_ems(lab, 'Set-ReceiveConnector "MAIL\\Default MAIL" -PermissionGroups Anonymous')
    lines = result.text.splitlines()
    assert lines[0].startswith("PermissionGroups 'Anonymous': is not a permission group. Use any of AnonymousUsers")
    assert lines[1:] == [
        "    + CategoryInfo          : NotSpecified: (0:Int32) [Set-ReceiveConnector], DataValidationException",
        "    + FullyQualifiedErrorId : DataValidationException,"
        "Microsoft.Exchange.Management.SystemConfigurationTasks.SetReceiveConnector",
    ]
    assert result.python == ""  # a rejected command has no Python twin to show
    missing = run_ems(lab, "Get-Queue Nope")
    assert missing.text.splitlines()[1:] == [
        "    + CategoryInfo          : NotSpecified: (0:Int32) [Get-Queue], ManagementObjectNotFoundException",
        "    + FullyQualifiedErrorId : ManagementObjectNotFoundException,"
        "Microsoft.Exchange.Management.QueueViewerTasks.GetQueue",
    ]


def test_get_command_lists_what_the_shell_knows(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    assert ok(lab, "Get-Command Retry-Queue | fl Name,Definition") == (
        "Name       : Retry-Queue\n"
        "Definition : Retry-Queue [[-Identity] <String>] [-Resubmit <Boolean>] [-Server <String>] [-Filter <String>]"
    )
    names = [o.props["Name"] for o in run_ems(lab, "gcm").objects]
    assert "New-SendConnector" in names and "Where-Object" in names and names == sorted(names, key=str.lower)
    assert run_ems(lab, "gcm").python == ""
