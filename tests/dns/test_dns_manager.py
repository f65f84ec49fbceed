"""`DnsManager` (`lab.dns`): synchronous calls from the notebook thread into the lab loop."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import dns.message
import dns.query
import pytest

from labkit.dns.manager import DnsManager
from labkit.dns.zone import Record
from labkit.errors import DuplicateObject, InvalidValue, LabNotRunning, UnknownObject

if TYPE_CHECKING:
    from tests.dns.conftest import DnsLab

RECORD_COLUMNS = ["Zone", "Name", "Type", "Data", "Preference", "TTL"]
QUERY_COLUMNS = ["Time", "Client", "Transport", "Name", "Type", "Rcode", "Answer"]


@pytest.fixture
def manager(dns_lab: DnsLab) -> DnsManager:
    return DnsManager(dns_lab.runtime, dns_lab.store, dns_lab.events)


def test_add_record_runs_on_the_lab_thread(dns_lab: DnsLab, manager: DnsManager) -> None:
    threads: list[str] = []
    original = dns_lab.store.add_record

    def spy(*args: object) -> Record:
        threads.append(threading.current_thread().name)
        return original(*args)  # type: ignore[arg-type]

    dns_lab.store.add_record = spy  # type: ignore[method-assign, assignment]
    record = manager.add_record("contoso.com", "www", "A", "100.100.100.11")
    assert record == Record("contoso.com", "www", "A", "100.100.100.11")
    assert threads == ["labkit-dns-test"]


def test_records_table(manager: DnsManager) -> None:
    df = manager.records("xutonglin.com")
    assert list(df.columns) == RECORD_COLUMNS
    assert df.values.tolist() == [
        ["xutonglin.com", "@", "SOA", "dns.internet.lab hostmaster.xutonglin.com 3 900 600 86400 3600", "", 3600],
        ["xutonglin.com", "@", "NS", "dns.internet.lab", "", 3600],
        ["xutonglin.com", "@", "MX", "mail.xutonglin.com", 10, 3600],
        ["xutonglin.com", "mail", "A", "100.100.100.254", "", 3600],
    ]
    assert manager.records()["Zone"].tolist() == ["contoso.com"] * 4 + ["xutonglin.com"] * 4


def test_errors_propagate_unchanged_and_change_nothing(manager: DnsManager) -> None:
    before = manager.records()
    with pytest.raises(InvalidValue) as info:
        manager.add_record("xutonglin.com", "@", "MX", "100.100.100.254", preference=10)
    assert info.value.field == "data"
    with pytest.raises(DuplicateObject):
        manager.add_record("xutonglin.com", "mail", "A", "100.100.100.254")
    with pytest.raises(UnknownObject):
        manager.remove_record("fabrikam.com", "mail", "A")
    assert manager.records().equals(before)


def test_verb_family_and_zones(manager: DnsManager) -> None:
    assert manager.zones() == ["contoso.com", "xutonglin.com"]
    assert manager.add_zone("fabrikam.com") == "fabrikam.com"
    assert "fabrikam.com" in manager and list(manager) == ["contoso.com", "fabrikam.com", "xutonglin.com"]
    manager.add_record("fabrikam.com", "mail", "A", "100.100.100.30")
    assert manager.has_record("fabrikam.com", "mail", "A", "100.100.100.30")
    assert [r.data for r in manager["fabrikam.com"]] == [
        "dns.internet.lab hostmaster.fabrikam.com 2 900 600 86400 3600",
        "dns.internet.lab",
        "100.100.100.30",
    ]
    assert manager.get_record("fabrikam.com", type="A")[0].fqdn == "mail.fabrikam.com"
    assert manager.remove_record("fabrikam.com", "mail", "A", "100.100.100.30") == Record(
        "fabrikam.com", "mail", "A", "100.100.100.30"
    )
    manager.remove_zone("fabrikam.com")
    assert "fabrikam.com" not in manager


def test_queries_table(dns_lab: DnsLab, manager: DnsManager) -> None:
    dns.query.udp(dns.message.make_query("xutonglin.com", "MX"), "127.0.0.1", timeout=5, port=dns_lab.udp_port)
    df = manager.queries()
    assert list(df.columns) == QUERY_COLUMNS
    assert df.drop(columns="Time").values.tolist() == [
        ["100.100.100.100", "udp", "xutonglin.com", "MX", "NOERROR", "10 mail.xutonglin.com"]
    ]
    assert df["Time"][0].endswith("Z")
    manager.clear_queries()
    assert manager.queries().empty and list(manager.queries().columns) == QUERY_COLUMNS


def test_renders_itself(manager: DnsManager) -> None:
    html = manager._repr_html_()
    assert html.startswith("<table") and "mail.xutonglin.com" in html
    assert repr(manager) == "<DnsManager zones=['contoso.com', 'xutonglin.com']>"


def test_after_stop_lab_not_running(dns_lab: DnsLab, manager: DnsManager) -> None:
    dns_lab.run(dns_lab.server.stop())
    dns_lab.run(dns_lab.network.close())
    dns_lab.runtime.stop()
    with pytest.raises(LabNotRunning):
        manager.zones()
