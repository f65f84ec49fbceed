"""The DNS server's Command Prompt: dnscmd changes the lab's DNS (checked over the wire with BIND's dig),
nslookup asks it for real; dnscmd's own texts and error codes, written out literally."""

from __future__ import annotations

import subprocess

import pytest

from labkit.lab import Lab
from labkit.shell import run_cmd
from tests import tools
from tests.conftest import StartLab

from .conftest import same, state

DNS_IP = "100.100.100.2"


def dig(lab: Lab, name: str, qtype: str) -> list[str]:
    """dig's short answer for `name`/`qtype`, from the lab's DNS server's real UDP endpoint."""
    path = tools.require("dig", "dnsutils")
    host, port = lab.endpoint(DNS_IP, 53, "udp")
    done = subprocess.run([path, f"@{host}", "-p", str(port), "+short", "+tries=1", "+time=5", name, qtype],
                          capture_output=True, text=True, check=False, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.split("\n")[:-1]


def test_documented_record_add_is_served_on_the_wire(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    assert dig(lab, "mail.xutonglin.com", "A") == []
    result = run_cmd(lab, "dnscmd /RecordAdd xutonglin.com mail A 100.100.100.254")
    assert result.ok
    assert result.text == "Add A Record for mail.xutonglin.com at xutonglin.com\nCommand completed successfully."
    assert dig(lab, "mail.xutonglin.com", "A") == ["100.100.100.254"]
    assert result.python == 'lab.dns.add_record("xutonglin.com", "mail", "A", "100.100.100.254")'


def test_mx_at_the_apex_with_a_server_argument(start_lab: StartLab) -> None:
    lab = start_lab(step=2)
    result = run_cmd(lab, "dnscmd 100.100.100.2 /RecordAdd xutonglin.com @ MX 10 mail.xutonglin.com")
    assert result.text == "Add MX Record for xutonglin.com at xutonglin.com\nCommand completed successfully."
    assert dig(lab, "xutonglin.com", "MX") == ["10 mail.xutonglin.com."]


def test_record_delete_asks_without_f_and_deletes_with_it(start_lab: StartLab) -> None:
    lab = start_lab(step=2)
    asked = run_cmd(lab, "dnscmd /RecordDelete xutonglin.com mail A 100.100.100.254")
    assert asked.text == "Are you sure you want to delete record? (y/n)" and not asked.ok
    assert dig(lab, "mail.xutonglin.com", "A") == ["100.100.100.254"]
    done = run_cmd(lab, "dnscmd /RecordDelete xutonglin.com mail A 100.100.100.254 /f")
    assert done.text == "Deleted A record(s) at xutonglin.com\nCommand completed successfully."
    assert dig(lab, "mail.xutonglin.com", "A") == []


def test_enum_records(start_lab: StartLab) -> None:
    lab = start_lab(step=3)
    result = run_cmd(lab, "dnscmd /EnumRecords contoso.com @")
    lines = result.text.splitlines()
    assert lines[0] == "Returned records:" and lines[-2:] == ["", "Command completed successfully."]
    assert "\t3600 MX\t10 mail.contoso.com." in lines
    assert "mail 3600 A\t100.100.100.10" in lines
    assert run_cmd(lab, "dnscmd /EnumRecords contoso.com mail").text == (
        "Returned records:\n@ 3600 A\t100.100.100.10\n\nCommand completed successfully."
    )


def test_zone_add_then_records_in_it(start_lab: StartLab) -> None:
    lab = start_lab(step=1)
    result = run_cmd(lab, "dnscmd /ZoneAdd fabrikam.com /Primary /file fabrikam.com.dns\n"
                          "dnscmd /RecordAdd fabrikam.com www A 100.100.100.50")  # fmt: skip
    assert result.ok
    assert result.text == (
        "DNS Server . created zone fabrikam.com:\n\nCommand completed successfully.\n"
        "Add A Record for www.fabrikam.com at fabrikam.com\nCommand completed successfully."
    )
    assert dig(lab, "www.fabrikam.com", "A") == ["100.100.100.50"]
    assert str(result).startswith("C:\\>dnscmd /ZoneAdd fabrikam.com /Primary /file fabrikam.com.dns\nDNS Server .")


# dnscmd's texts: "Command failed:  <name>     <code>    0x<hex>" (winerror.h codes).
FAILURES = [
    ("dnscmd /RecordAdd nosuch.com mail A 1.2.3.4",
     "Add A Record for mail.nosuch.com at nosuch.com\nCommand failed:  DNS_ERROR_ZONE_DOES_NOT_EXIST     9601    0x2581"),
    ("dnscmd /RecordAdd contoso.com mail A 100.100.100.10",
     "Add A Record for mail.contoso.com at contoso.com\n"
     "Command failed:  DNS_ERROR_RECORD_ALREADY_EXISTS     9711    0x25EF"),
    ("dnscmd /RecordAdd contoso.com www A 100.100.300.1",
     "Add A Record for www.contoso.com at contoso.com\nCommand failed:  DNS_ERROR_INVALID_IP_ADDRESS     9552    0x2550"),
    ("dnscmd /RecordDelete contoso.com www A 1.2.3.4 /f",
     "Command failed:  DNS_ERROR_RECORD_DOES_NOT_EXIST     9701    0x25E5"),
    ("dnscmd /EnumRecords nosuch.com @", "Command failed:  DNS_ERROR_ZONE_DOES_NOT_EXIST     9601    0x2581"),
    ("dnscmd /ZoneAdd contoso.com /Primary", "Command failed:  DNS_ERROR_ZONE_ALREADY_EXISTS     9609    0x2589"),
    ("dnscmd /ZoneAdd fabrikam.com /DsPrimary", "Command failed:  DNS_ERROR_DS_UNAVAILABLE     9717    0x25F5"),
    ("dnscmd 10.0.0.1 /RecordAdd contoso.com www A 1.2.3.4",
     "Command failed:  RPC_S_SERVER_UNAVAILABLE     1722    0x6BA"),
    ("dnscmd /RecordAdd contoso.com www A",
     "Usage: DnsCmd <ServerName> /RecordAdd <Zone> <NodeName> [/Aging] [/OpenAcl] [/CreatePTR] [<Ttl>] <RRType> <RRData>"),
    ('dnscmd /Frobnicate', 'Unknown Command "/Frobnicate" Specified -- type DnsCmd -? for help.'),
    ("ping mail.contoso.com", "'ping' is not recognized as an internal or external command,\noperable program or batch file."),
]  # fmt: skip


@pytest.mark.parametrize(("line", "expected"), FAILURES, ids=[f[0] for f in FAILURES])
def test_failures_print_dnscmds_text_and_change_nothing(start_lab: StartLab, line: str, expected: str) -> None:
    lab = start_lab(step=3)
    before = state(lab)
    result = run_cmd(lab, line)
    assert result.text == expected
    assert not result.ok and result.errors  # the lab's explanation, for the console to show beside the text
    assert same(before, state(lab))


def test_nslookup_forms(start_lab: StartLab) -> None:
    lab = start_lab(step=3)
    assert run_cmd(lab, "nslookup mail.xutonglin.com 100.100.100.2").text == (
        "Server:  UnKnown\nAddress:  100.100.100.2\n\nName:    mail.xutonglin.com\nAddress:  100.100.100.254"
    )
    mx = run_cmd(lab, "nslookup -type=MX xutonglin.com")
    assert mx.text == (
        "Server:  UnKnown\nAddress:  100.100.100.2\n\n"
        "xutonglin.com   MX preference = 10, mail exchanger = mail.xutonglin.com\n"
        "mail.xutonglin.com      internet address = 100.100.100.254"
    )
    assert mx.python == 'lab.nslookup("xutonglin.com", "MX")'
    assert run_cmd(lab, "nslookup -q=mx nosuch.xutonglin.com").text.endswith(
        "*** UnKnown can't find nosuch.xutonglin.com: Non-existent domain"
    )
    assert run_cmd(lab, "nslookup").text.startswith("The lab's Command Prompt runs nslookup non-interactively")
