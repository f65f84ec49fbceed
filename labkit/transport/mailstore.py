"""Mailboxes on disk: one Maildir per mailbox under ``<data_dir>/mailboxes/<address>/``.

Delivery is idempotent: a message's file name is derived from its Message-ID, so
a delivery repeated after a crash finds the file already there and writes nothing
(the product's duplicate delivery detection, tracking event DUPLICATEDELIVER).
Files are written to ``tmp/``, fsynced, and renamed into ``new/`` — the Maildir
protocol — so a reader never sees half a message.
"""

from __future__ import annotations

import hashlib
import mailbox
import os
from collections.abc import Sequence
from pathlib import Path


def message_key(message_id: str, host: str) -> str:
    """The Maildir file name of a message: a digest of its Message-ID, then the server name.

    >>> message_key("<00000001@mail.contoso.com>", "mail.xutonglin.com")
    'd41a9a531552c5390c724bb0.mail.xutonglin.com'
    """
    digest = hashlib.sha256(message_id.strip().lower().encode("utf-8", "surrogateescape")).hexdigest()[:24]
    return f"{digest}.{host}"


class MailStore:
    """The Maildir folders of one server's mailboxes.

    Args:
        root: ``<data_dir>/mailboxes``.
        host: the server's FQDN (the Maildir "hostname" part of file names).
    """

    def __init__(self, root: Path, host: str) -> None:
        self.root = root
        self.host = host
        self._made: set[str] = set()
        root.mkdir(parents=True, exist_ok=True)

    def folder(self, address: str) -> Path:
        """The Maildir of `address` (created on first use)."""
        path = self.root / address
        if address not in self._made:
            for sub in ("tmp", "new", "cur"):
                (path / sub).mkdir(parents=True, exist_ok=True)
            self._made.add(address)
        return path

    def deliver(self, address: str, message_id: str, content: bytes) -> bool:
        """Put a message into a mailbox durably.

        Returns:
            False when the mailbox already holds this Message-ID (nothing written).
        """
        return self.deliver_many([(address, message_id, content)])[0]

    def deliver_many(self, items: Sequence[tuple[str, str, bytes]]) -> list[bool]:
        """Put several messages (address, Message-ID, bytes) into mailboxes durably, in order.

        Each file is written to ``tmp/``, fsynced and renamed into ``new/``; then each ``new/`` folder that
        received a file is fsynced once, so that the renames are on disk too before this returns. Safe to run
        on a worker thread (it touches only files).

        Returns:
            For each item, False when its mailbox already held that Message-ID (nothing written).
        """
        written: list[bool] = []
        folders: dict[str, None] = {}
        for address, message_id, content in items:
            folder = str(self.folder(address))  # plain strings: this runs once per message
            key = message_key(message_id, self.host)
            final = f"{folder}/new/{key}"
            if os.path.exists(final) or any(name.startswith(key) for name in os.listdir(f"{folder}/cur")):
                written.append(False)
                continue
            temp = f"{folder}/tmp/{key}"
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
            try:
                view = memoryview(content)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temp, final)
            folders[f"{folder}/new"] = None
            written.append(True)
        for new in folders:
            dir_fd = os.open(new, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        return written

    def read(self, address: str, message_id: str) -> bytes | None:
        """The bytes of one message in a mailbox, or None."""
        box = mailbox.Maildir(str(self.folder(address)), factory=None, create=True)
        key = message_key(message_id, self.host)
        try:
            return box.get_bytes(key)
        except KeyError:
            return None

    def keys(self, address: str) -> list[str]:
        """The Maildir keys present in a mailbox (unordered)."""
        return list(mailbox.Maildir(str(self.folder(address)), factory=None, create=True).keys())
