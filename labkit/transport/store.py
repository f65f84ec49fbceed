"""The durable store of one transport server: queued messages, counters and logs in SQLite.

A message is acknowledged with ``250`` only after its commit is on disk. The
journal is a WAL; SQLite itself runs with ``synchronous=NORMAL`` (a commit writes
the WAL without waiting for the disk) and the store makes each commit durable by
fsyncing the WAL file — what ``synchronous=FULL`` does — but on a worker thread,
so the lab loop keeps serving other sessions while the disk works. `commit_soon`
returns only once that sync is done; `commit` (and a ``durable`` write) syncs on
the spot. Checkpoints are SQLite's own and sync as always. Per-recipient state
moves ``pending`` → ``delivered`` / ``sent`` / ``failed`` in later commits; on
start, every message with a pending recipient is resumed. Log rows are appended
without a commit of their own and ride along with the next one (or the periodic
flush), so logging never costs an extra disk sync.

Used from the lab loop's thread; only the WAL fsync runs on the store's worker thread.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL,
    sender TEXT NOT NULL,
    subject TEXT NOT NULL,
    size INTEGER NOT NULL,
    received TEXT NOT NULL,
    source_name TEXT NOT NULL,
    source_ip TEXT NOT NULL,
    scl INTEGER NOT NULL,
    is_report INTEGER NOT NULL,
    content BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS recipients (
    message INTEGER NOT NULL,
    address TEXT NOT NULL,
    state TEXT NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (message, address)
);
CREATE INDEX IF NOT EXISTS recipients_state ON recipients (state);
CREATE TABLE IF NOT EXISTS delivered (mailbox TEXT NOT NULL, message_id TEXT NOT NULL, PRIMARY KEY (mailbox, message_id));
CREATE TABLE IF NOT EXISTS tracking (seq INTEGER PRIMARY KEY, record TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS protocol (seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, record TEXT NOT NULL);
"""

T = TypeVar("T")

PENDING, DELIVERED, SENT, FAILED = "pending", "delivered", "sent", "failed"
RECENT_MESSAGES = 256  # how many of the latest messages' bytes `Store.content` answers from memory


@dataclass(frozen=True)
class StoredMessage:
    """A message as stored: envelope, a few header facts, and where it came from.

    Attributes:
        id: InternalMessageId (per server).
        message_id: the Message-ID header (InternetMessageId).
        sender: envelope sender (``""`` for a report's null sender).
        subject: the Subject header.
        size: bytes.
        received: ISO time it was accepted.
        source_name: MessageSourceName (``SMTP:Default MAIL``, ``FromLocal``, ``DSN``).
        source_ip: the client address it came from.
        scl: spam confidence level.
        is_report: an NDR/DSN (never answered with another NDR).
    """

    id: int
    message_id: str
    sender: str
    subject: str
    size: int
    received: str
    source_name: str
    source_ip: str
    scl: int
    is_report: bool


class Store:
    """SQLite at ``<data_dir>/transport.db``.

    Args:
        path: the database file (created with its directory).
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=NORMAL")  # and every commit's WAL is fsynced by `_sync` (see above)
        self.db.executescript(SCHEMA)
        self._wal = os.open(f"{path}-wal", os.O_RDONLY | os.O_CREAT, 0o644)  # SQLite keeps it while connected
        self._written = 0  # commits made (their WAL frames are written, maybe not yet on disk)
        self._synced = 0  # commits known to be on disk
        self._syncer = ThreadPoolExecutor(1, thread_name_prefix=f"labkit-sync-{path.parent.name}")
        self._in_txn = False
        self._dirty = False
        self._counters: dict[str, int] = dict(self.db.execute("SELECT name, value FROM counters").fetchall())
        self._counters_dirty: set[str] = set()
        self._group: list[asyncio.Future[None]] | None = None  # the waiters of the next group commit
        self._tracking: list[tuple[str]] = []
        self._protocol: list[tuple[str, str]] = []
        self._recent: dict[int, bytes] = {}  # the latest messages' bytes, read back soon after (delivery)

    # -- transactions ------------------------------------------------------------------------------
    def _begin(self) -> None:
        if not self._in_txn:
            self.db.execute("BEGIN")
            self._in_txn = True

    def commit(self) -> None:
        """Make everything written so far durable (log rows included), waiting for the disk here."""
        self._write()
        self._sync(self._written)

    def _write(self) -> None:
        """Commit what was written so far to the WAL (not yet synced: `_sync` does that)."""
        if self._counters_dirty:
            self._begin()
            self.db.executemany(
                "INSERT OR REPLACE INTO counters (name, value) VALUES (?, ?)",
                [(name, self._counters[name]) for name in self._counters_dirty],
            )
            self._counters_dirty.clear()
        if self._tracking or self._protocol:
            self._begin()
            self.db.executemany("INSERT INTO tracking (record) VALUES (?)", self._tracking)
            self.db.executemany("INSERT INTO protocol (kind, record) VALUES (?, ?)", self._protocol)
            self._tracking, self._protocol = [], []
        if self._in_txn:
            self.db.execute("COMMIT")
            self._in_txn = False
            self._written += 1
        self._dirty = False

    def _sync(self, upto: int) -> None:
        """Make commits up to number `upto` durable: one fsync of the WAL covers every commit written before it.

        Runs on the loop thread (`commit`) or on the worker thread (`commit_soon`); a sync already covered by an
        earlier one returns at once.
        """
        if self._synced >= upto:
            return
        covered = self._written  # read before the fsync: every commit counted here is in the WAL already
        os.fdatasync(self._wal)
        self._synced = max(self._synced, covered)

    async def commit_soon(self) -> None:
        """Group commit: wait for one commit shared by every caller of this loop iteration.

        Concurrent SMTP sessions that finish their DATA together pay for one disk sync, not one each.
        """
        loop = asyncio.get_running_loop()
        if self._group is None:
            self._group = []
            loop.call_soon(self._commit_group)
        waiter = loop.create_future()  # one per caller: a caller cancelled does not cancel the others
        self._group.append(waiter)
        await waiter

    def _commit_group(self) -> None:
        group, self._group = self._group, None
        if group is None:
            return
        try:
            self._write()
        except Exception as exc:  # the waiters see the disk error (and answer 451)
            _settle(group, exc)
            return
        if self._synced >= self._written:
            _settle(group, None)  # nothing new to sync
        else:
            self._syncer.submit(self._sync_and_tell, asyncio.get_running_loop(), group, self._written)

    def _sync_and_tell(self, loop: asyncio.AbstractEventLoop, group: list[asyncio.Future[None]], upto: int) -> None:
        """On the worker thread: sync, then wake the group's waiters on the loop (with the error, if any)."""
        try:
            self._sync(upto)
        except Exception as exc:
            loop.call_soon_threadsafe(_settle, group, exc)
        else:
            loop.call_soon_threadsafe(_settle, group, None)

    @property
    def dirty(self) -> bool:
        """True when log rows wait for a commit."""
        return self._dirty

    def close(self) -> None:
        """Commit (durably) and close. Idempotent."""
        try:
            self.commit()
            self.db.close()
        except sqlite3.ProgrammingError:
            pass
        self._syncer.shutdown(wait=True)
        if self._wal >= 0:
            os.close(self._wal)
            self._wal = -1

    # -- counters ----------------------------------------------------------------------------------
    def next_value(self, name: str) -> int:
        """The next value of a persisted counter (1, 2, 3...); written with the next commit.

        A message stored with a Message-ID is committed together with the counter that made it, so an id
        is never handed out twice to stored messages, even across a crash.
        """
        value = self._counters.get(name, 0) + 1
        self._counters[name] = value
        self._counters_dirty.add(name)
        self._dirty = True
        return value

    # -- messages ----------------------------------------------------------------------------------
    def add_message(
        self, message: StoredMessage, recipients: Sequence[str], content: bytes, *, durable: bool = True
    ) -> None:
        """Store a message and its recipients as pending; durably (commits) unless `durable` is False."""
        self._begin()
        self.db.execute(
            "INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message.id, message.message_id, message.sender, message.subject, message.size, message.received,
                message.source_name, message.source_ip, message.scl, int(message.is_report), content,
            ),
        )  # fmt: skip
        self.db.executemany(
            "INSERT OR IGNORE INTO recipients (message, address, state) VALUES (?, ?, ?)",
            [(message.id, r, PENDING) for r in recipients],
        )
        self._recent[message.id] = content
        if len(self._recent) > RECENT_MESSAGES:
            del self._recent[next(iter(self._recent))]
        if durable:
            self.commit()
        else:
            self._dirty = True

    def set_state(
        self, message: int, recipients: Iterable[str], state: str, error: str = "", *, durable: bool = True
    ) -> None:
        """Move recipients of a message to `state` (committing unless `durable` is False)."""
        self._begin()
        self.db.executemany(
            "UPDATE recipients SET state = ?, last_error = ? WHERE message = ? AND address = ?",
            [(state, error, message, r) for r in recipients],
        )
        if durable:
            self.commit()
        else:
            self._dirty = True

    def message(self, message: int) -> StoredMessage | None:
        """One message's envelope and facts, or None."""
        row = self.db.execute(
            "SELECT id, message_id, sender, subject, size, received, source_name, source_ip, scl, is_report "
            "FROM messages WHERE id = ?",
            (message,),
        ).fetchone()
        return _message(row) if row else None

    def content(self, message: int) -> bytes:
        """The message's bytes (KeyError if unknown)."""
        recent = self._recent.get(message)
        if recent is not None:
            return recent
        row = self.db.execute("SELECT content FROM messages WHERE id = ?", (message,)).fetchone()
        if row is None:
            raise KeyError(message)
        return bytes(row[0])

    def pending(self) -> list[tuple[StoredMessage, list[str]]]:
        """Every message with pending recipients, oldest first, with those recipients."""
        rows = self.db.execute(
            "SELECT m.id, m.message_id, m.sender, m.subject, m.size, m.received, m.source_name, m.source_ip, m.scl, "
            "m.is_report, r.address FROM messages m JOIN recipients r ON r.message = m.id "
            "WHERE r.state = ? ORDER BY m.id, r.rowid",
            (PENDING,),
        ).fetchall()
        result: dict[int, tuple[StoredMessage, list[str]]] = {}
        for row in rows:
            entry = result.setdefault(row[0], (_message(row[:10]), []))
            entry[1].append(row[10])
        return list(result.values())

    def recipient_states(self, message: int) -> dict[str, str]:
        """Recipient → state for one message."""
        rows = self.db.execute("SELECT address, state FROM recipients WHERE message = ?", (message,)).fetchall()
        return {address: state for address, state in rows}

    # -- mailbox delivery dedupe ---------------------------------------------------------------------
    def was_delivered(self, mailbox: str, message_id: str) -> bool:
        """Whether a message with this Message-ID already sits in `mailbox`."""
        row = self.db.execute(
            "SELECT 1 FROM delivered WHERE mailbox = ? AND message_id = ?", (mailbox, message_id)
        ).fetchone()
        return row is not None

    def mark_delivered(self, mailbox: str, message_id: str) -> None:
        """Remember a delivery (committed with the recipient's state change)."""
        self._begin()
        self.db.execute("INSERT OR IGNORE INTO delivered VALUES (?, ?)", (mailbox, message_id))
        self._dirty = True

    def delivered_ids(self, mailbox: str) -> list[str]:
        """The Message-IDs delivered to `mailbox`, in delivery order."""
        rows = self.db.execute("SELECT message_id FROM delivered WHERE mailbox = ? ORDER BY rowid", (mailbox,))
        return [row[0] for row in rows]

    # -- logs ----------------------------------------------------------------------------------------
    def add_tracking(self, record: str) -> None:
        """Append one tracking-log row (JSON); written with the next commit."""
        self._tracking.append((record,))
        self._dirty = True

    def add_protocol(self, kind: str, record: str) -> None:
        """Append one protocol-log row (JSON) of kind ``receive`` or ``send``; written with the next commit."""
        self._protocol.append((kind, record))
        self._dirty = True

    def tracking(self) -> list[str]:
        """Every tracking row, in order (including rows not yet committed)."""
        rows = [row[0] for row in self.db.execute("SELECT record FROM tracking ORDER BY seq")]
        return rows + [r for (r,) in self._tracking]

    def protocol(self, kind: str) -> list[str]:
        """Every protocol row of one kind, in order (including rows not yet committed)."""
        rows = [row[0] for row in self.db.execute("SELECT record FROM protocol WHERE kind = ? ORDER BY seq", (kind,))]
        return rows + [r for k, r in self._protocol if k == kind]


def off_loop(executor: ThreadPoolExecutor, fn: Callable[[], T]) -> asyncio.Future[T]:
    """`loop.run_in_executor` with less machinery: the worker hands the result straight back to the loop."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def work() -> None:
        try:
            result = fn()
        except Exception as exc:
            loop.call_soon_threadsafe(_reject, future, exc)
        else:
            loop.call_soon_threadsafe(_resolve, future, result)

    executor.submit(work)
    return future


def _resolve(future: asyncio.Future[T], result: T) -> None:
    if not future.done():
        future.set_result(result)


def _reject(future: asyncio.Future[Any], error: Exception) -> None:
    if not future.done():
        future.set_exception(error)


def _settle(group: list[asyncio.Future[None]], error: Exception | None) -> None:
    """Pass a group commit's outcome on to its waiters (those still waiting)."""
    for waiter in group:
        if waiter.done():
            continue
        if error is not None:
            waiter.set_exception(error)
        else:
            waiter.set_result(None)


def _message(row: Sequence[Any]) -> StoredMessage:
    return StoredMessage(
        int(row[0]), str(row[1]), str(row[2]), str(row[3]), int(row[4]), str(row[5]), str(row[6]), str(row[7]),
        int(row[8]), bool(row[9]),
    )  # fmt: skip
