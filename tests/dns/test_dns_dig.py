"""The DNS server asked by BIND's `dig`, as a learner would from a terminal."""

from __future__ import annotations

import re
import subprocess
from typing import TYPE_CHECKING

from tests import tools

if TYPE_CHECKING:
    from tests.dns.conftest import DnsLab

DIG = tools.require("dig", "dnsutils", module_level=True)


def dig(port: int, *args: str) -> str:
    assert DIG is not None
    done = subprocess.run(
        [DIG, "@127.0.0.1", "-p", str(port), "+tries=1", "+time=5", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def section(output: str, name: str) -> list[list[str]]:
    """The records of one section of dig's output, each split into fields."""
    match = re.search(rf";; {name} SECTION:\n(.*?)(?:\n\n|\Z)", output, re.S)
    return [line.split() for line in match.group(1).splitlines() if not line.startswith(";")] if match else []


def flags(output: str) -> set[str]:
    match = re.search(r";; flags: ([a-z ]+);", output)
    assert match, output
    return set(match.group(1).split())


def status(output: str) -> str:
    match = re.search(r"status: ([A-Z]+)", output)
    assert match, output
    return match.group(1)


def test_a(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.udp_port, "mail.xutonglin.com", "A")
    assert status(out) == "NOERROR" and "aa" in flags(out) and "ra" not in flags(out)
    assert section(out, "ANSWER") == [["mail.xutonglin.com.", "3600", "IN", "A", "100.100.100.254"]]


def test_mx_with_glue(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.udp_port, "xutonglin.com", "MX")
    assert section(out, "ANSWER") == [["xutonglin.com.", "3600", "IN", "MX", "10", "mail.xutonglin.com."]]
    assert section(out, "ADDITIONAL") == [["mail.xutonglin.com.", "3600", "IN", "A", "100.100.100.254"]]


def test_nxdomain_with_soa(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.udp_port, "nosuch.xutonglin.com")
    assert status(out) == "NXDOMAIN" and "aa" in flags(out)
    assert section(out, "AUTHORITY") == [
        [
            "xutonglin.com.",
            "3600",
            "IN",
            "SOA",
            "dns.internet.lab.",
            "hostmaster.xutonglin.com.",
            "3",
            "900",
            "600",
            "86400",
            "3600",
        ]
    ]


def test_nodata_with_soa(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.udp_port, "mail.contoso.com", "MX")
    assert status(out) == "NOERROR" and section(out, "ANSWER") == []
    assert section(out, "AUTHORITY")[0][3] == "SOA"


def test_refused_outside(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.udp_port, "www.example.com")
    assert status(out) == "REFUSED" and "aa" not in flags(out)


def test_tcp(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.tcp_port, "+tcp", "contoso.com", "MX")
    assert "(TCP)" in out and status(out) == "NOERROR" and "aa" in flags(out)
    assert section(out, "ANSWER") == [["contoso.com.", "3600", "IN", "MX", "10", "mail.contoso.com."]]
    assert dns_lab.queries()[-1].transport == "tcp"


def test_no_edns(dns_lab: DnsLab) -> None:
    out = dig(dns_lab.udp_port, "+noedns", "mail.contoso.com")
    assert status(out) == "NOERROR" and "OPT PSEUDOSECTION" not in out


def test_queries_logged_as_outside_client(dns_lab: DnsLab) -> None:
    dig(dns_lab.udp_port, "mail.contoso.com")
    [event] = dns_lab.queries()
    assert (event.client, event.transport, event.name, event.rcode, event.answer) == (
        "100.100.100.100",
        "udp",
        "mail.contoso.com",
        "NOERROR",
        "100.100.100.10",
    )
