"""Queue bookkeeping: identities, status, visibility (facts §1.1-§1.4)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from labkit.errors import UnknownObject
from labkit.transport.queues import QueueSet
from labkit.transport.store import StoredMessage

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def stored(n: int) -> StoredMessage:
    return StoredMessage(
        n, f"<{n}@x>", "a@x.com", "s", 10, "2026-11-28T09:00:00.000Z", "FromLocal", "1.1.1.1", -1, False
    )


def test_identities_and_lookup() -> None:
    qs = QueueSet("MAIL")
    a = qs.delivery("DnsConnectorDelivery", "xutonglin.com", "Internet")
    b = qs.delivery("DnsConnectorDelivery", "fabrikam.com", "Internet")
    assert (a.identity, b.identity) == ("MAIL\\1", "MAIL\\2")
    assert qs.delivery("DnsConnectorDelivery", "xutonglin.com", "Internet") is a
    assert (
        qs.find("mail\\unreachable") is qs.unreachable
        and qs.find("2") is b
        and qs.find("MAIL\\Submission") is qs.submission
    )
    with pytest.raises(UnknownObject) as info:
        qs.find("MAIL\\9")
    assert "MAIL\\1" in str(info.value)


def test_status_and_retry() -> None:
    q = QueueSet("MAIL").delivery("DnsConnectorDelivery", "x.com", "Internet")
    q.add(stored(1), ["a@x.com"])
    assert q.status == "Ready" and q.take() is not None and q.take() is None
    q.set_retry("451 4.4.0 DNS query failed", NOW, timedelta(minutes=5))
    row = q.row()
    assert (row["Status"], row["RetryCount"], row["NextRetryTime"]) == ("Retry", 1, NOW + timedelta(minutes=5))
    q.suspended = True
    assert q.status == "Suspended"


def test_visibility() -> None:
    qs = QueueSet("MAIL")
    assert [q.name for q in qs.visible(NOW, timedelta(minutes=3))] == ["Submission"]
    qs.unreachable.add(stored(1), ["a@y.com"])
    q = qs.delivery("DnsConnectorDelivery", "x.com", "Internet")
    q.add(stored(2), ["a@x.com"])
    assert [q.name for q in qs.visible(NOW, timedelta(minutes=3))] == ["Submission", "Unreachable", "1"]
    q.remove(2, NOW)
    assert len(qs.visible(NOW + timedelta(minutes=1), timedelta(minutes=3))) == 3  # lingers while idle
    assert [q.name for q in qs.visible(NOW + timedelta(minutes=4), timedelta(minutes=3))] == [
        "Submission",
        "Unreachable",
    ]
