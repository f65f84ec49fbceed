"""Examples from Microsoft's cmdlet pages, each run on a real lab and checked against what the page says it does.

The pages' server and connector names are replaced by the lab's (Server1 / Mailbox01 → MAIL, the
contoso.com queue → the xutonglin.com queue, "Internet Receive Connector" → "Default MAIL"); dates are
moved to today. Nothing else is changed, except where a row says so.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from labkit.lab import Lab
from labkit.shell import run_ems
from tests.conftest import StartLab

from .conftest import ALLEN, CONTOSO, SENDER


def send_one(lab: Lab) -> None:
    lab.send_mail(SENDER, ALLEN, "example", "body")
    lab.settle()


stuck_in_unreachable = send_one  # before step 3 there is no send connector (facts §9)


def stuck_in_retry(lab: Lab) -> None:
    lab.dns.remove_record("xutonglin.com", "@", "MX")
    stuck_in_unreachable(lab)


def new_send_connector(lab: Lab, _: str) -> None:
    # "creates the Send connector named MySendConnector ... sends email messages over the Internet ... processes
    # messages addressed only to Contoso.com and Fabrikam.com domains"
    row = lab.server(CONTOSO).get_send_connector("MySendConnector").iloc[0]
    assert (row["Usage"], row["AddressSpaces"]) == ("Internet", "{SMTP:contoso.com;1, SMTP:fabrikam.com;1}")


def set_receive_connector(lab: Lab, _: str) -> None:
    # "changes the banner to 220 SMTP Server Ready" (the page's -ConnectionTimeout 00:15:00 is left out: the lab
    # does not model connection timeouts)
    assert lab.server(CONTOSO).get_receive_connector("Default MAIL").iloc[0]["Banner"] == "220 SMTP Server Ready"


def get_queue_filter(lab: Lab, text: str) -> None:
    # "lists the queues that contain more than 100 messages" (the lab's queue holds one: the page's 100 → 0)
    assert "MAIL\\Unreachable" in text and "MAIL\\Submission" not in text


def get_queue_list(lab: Lab, text: str) -> None:
    # "displays configuration information for the queue named contoso.com" as a list
    fields = {line.split(" : ")[0].strip(): line.split(" : ", 1)[1] for line in text.splitlines() if " : " in line}
    assert (fields["Identity"], fields["NextHopDomain"], fields["Status"]) == ("MAIL\\1", "xutonglin.com", "Retry")
    assert fields["DeliveryType"] == "DnsConnectorDelivery"


def retry_queue_filter(lab: Lab, _: str) -> None:
    # "forces a connection attempt for all queues ... that have a status of Retry": with the MX back, the
    # message reaches xutonglin (whose Default connector refuses anonymous mail: 530, an NDR, the queue empties)
    lab.settle()
    assert lab.server(CONTOSO).get_message().empty
    statuses = lab.server(CONTOSO).get_message_tracking_log(event_id="FAIL")["RecipientStatus"]
    assert list(statuses) == ["530 5.7.1 Client was not authenticated"]


def retry_queue_resubmit(lab: Lab, _: str) -> None:
    # "resubmits all messages located in the unreachable queue": contoso now claims xutonglin.com, so the
    # message is routed again and fails as an unknown local recipient
    lab.settle()
    statuses = lab.server(CONTOSO).get_message_tracking_log(event_id="FAIL")["RecipientStatus"]
    assert list(statuses) == ["550 5.1.1 RESOLVER.ADR.RecipNotFound; not found"]


def tracking(lab: Lab, text: str) -> None:
    # "searches ... for information about all messages sent from ... by the sender"
    assert text == (
        "EventId Source      Sender              Recipients            MessageSubject\n"
        "------- ------      ------              ----------            --------------\n"
        "SUBMIT  STOREDRIVER contoso@contoso.com {allen@xutonglin.com} example\n"
        "RECEIVE STOREDRIVER contoso@contoso.com {allen@xutonglin.com} example\n"
        "SEND    SMTP        contoso@contoso.com {allen@xutonglin.com} example"
    )


def _today(delta: int) -> str:
    return (datetime.now(UTC) + timedelta(days=delta)).strftime("%m/%d/%Y %H:%M:%S")


def fix_mx(lab: Lab) -> None:
    lab.dns.add_record("xutonglin.com", "@", "MX", "mail.xutonglin.com", preference=10)


def claim_domain(lab: Lab) -> None:
    lab.server(CONTOSO).new_accepted_domain("Xutonglin", "xutonglin.com")


Setup = Callable[[Lab], None]
EXAMPLES: list[tuple[str, int, Setup | None, Setup | None, str, Callable[[Lab, str], None]]] = [
    ("New-SendConnector", 3, None, None,
     "New-SendConnector -Internet -Name MySendConnector -AddressSpaces contoso.com,fabrikam.com", new_send_connector),
    ("Set-ReceiveConnector", 1, None, None,
     'Set-ReceiveConnector -Identity "Default MAIL" -Banner "220 SMTP Server Ready"', set_receive_connector),
    ("Get-Queue", 3, stuck_in_unreachable, None, "Get-Queue -Filter {MessageCount -gt 0}", get_queue_filter),
    ("Get-Queue", 4, stuck_in_retry, None, "Get-Queue -Identity MAIL\\xutonglin.com | Format-List", get_queue_list),
    ("Retry-Queue", 4, stuck_in_retry, fix_mx, 'Retry-Queue -Filter {Status -eq "Retry"} -Server MAIL', retry_queue_filter),
    ("Retry-Queue", 3, stuck_in_unreachable, claim_domain,
     "Retry-Queue -Identity MAIL\\Unreachable -Resubmit $true", retry_queue_resubmit),
    ("Get-MessageTrackingLog", 5, send_one, None,
     f'Get-MessageTrackingLog -Server MAIL -Start "{_today(-1)}" -End "{_today(1)}" -Sender "{SENDER}"', tracking),
]  # fmt: skip


@pytest.mark.parametrize(("page", "step", "before", "fix", "command", "check"), EXAMPLES,
                         ids=[f"{e[0]}: {e[4][:50]}" for e in EXAMPLES])  # fmt: skip
def test_example_does_what_the_page_says(
    start_lab: StartLab, page: str, step: int, before: Setup | None, fix: Setup | None, command: str,
    check: Callable[[Lab, str], None],
) -> None:  # fmt: skip
    lab = start_lab(step=step)
    if before is not None:
        before(lab)
    if fix is not None:
        fix(lab)
    result = run_ems(lab, command)
    assert result.ok, result.text
    check(lab, result.text)
