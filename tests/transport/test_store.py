"""The SQLite store: durable messages, per-recipient state, counters, logs."""

from __future__ import annotations

from pathlib import Path

from labkit.transport.mailstore import MailStore
from labkit.transport.store import DELIVERED, SENT, Store, StoredMessage


def message(n: int) -> StoredMessage:
    return StoredMessage(
        n, f"<{n}@x>", "a@x.com", "Hi", 5, "2026-11-28T09:00:00.000Z", "FromLocal", "1.1.1.1", -1, False
    )


def test_pending_survives_reopen(tmp_path: Path) -> None:
    store = Store(tmp_path / "t.db")
    store.add_message(message(1), ["b@y.com", "c@y.com"], b"hello")
    store.add_message(message(2), ["d@y.com"], b"bye")
    store.set_state(1, ["b@y.com"], SENT)
    store.set_state(2, ["d@y.com"], DELIVERED)
    assert store.next_value("msgid") == 1 and store.next_value("msgid") == 2
    store.commit()
    store.db.close()  # like a crash: no close() bookkeeping
    again = Store(tmp_path / "t.db")
    pending = again.pending()
    assert [(m.id, r) for m, r in pending] == [(1, ["c@y.com"])]
    assert again.content(1) == b"hello" and again.next_value("msgid") == 3
    again.close()


def test_maildir_delivery_is_idempotent(tmp_path: Path) -> None:
    mail = MailStore(tmp_path / "mb", "mail.x.com")
    assert mail.deliver("a@x.com", "<1@x>", b"Subject: one\r\n\r\nbody\r\n")
    assert not mail.deliver("a@x.com", "<1@x>", b"Subject: one\r\n\r\nbody\r\n")
    assert mail.read("a@x.com", "<1@x>") == b"Subject: one\r\n\r\nbody\r\n"
    assert len(mail.keys("a@x.com")) == 1
    assert list((tmp_path / "mb" / "a@x.com" / "tmp").iterdir()) == []
