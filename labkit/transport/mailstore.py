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
        folder = self.folder(address)
        key = message_key(message_id, self.host)
        final = folder / "new" / key
        if final.exists() or any(name.startswith(key) for name in os.listdir(folder / "cur")):
            return False
        temp = folder / "tmp" / key
        with open(temp, "wb") as fh:
            fh.write(content)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, final)
        dir_fd = os.open(folder / "new", os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
        return True

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
