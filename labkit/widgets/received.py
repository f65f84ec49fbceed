"""The ``Received:`` chain of a message as a table of hops (RFC 5321 §4.4).

Each server that relays a message puts a ``Received:`` field on top, so the
bottom field is the first hop. The clauses are ``from``, ``by``, ``via``,
``with``, ``id`` and ``for``, in any order, with comments in parentheses, and a
date after the last ``;``.

>>> header = ("from mail.contoso.com (100.100.100.10) by mail.xutonglin.com (192.168.8.10) "
...           "with Microsoft SMTP Server id 14.0.639.21; Sat, 28 Nov 2026 09:00:01 +0000")
>>> hop = parse_received(header)
>>> hop["by"], hop["from"], hop["with"]
('mail.xutonglin.com (192.168.8.10)', 'mail.contoso.com (100.100.100.10)', 'Microsoft SMTP Server')
>>> hop["time"]
'Sat, 28 Nov 2026 09:00:01 +0000'
"""

from __future__ import annotations

import re
from email.message import Message

import pandas as pd

CLAUSES = ("from", "by", "via", "with", "id", "for")
HOP_COLUMNS = ("Hop", "By", "From", "With", "Time")


def _unfold(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()


def parse_received(value: str) -> dict[str, str]:
    """Split one ``Received:`` value into its clauses and date; missing clauses are "".

    Keywords inside parentheses (comments) are not clauses.

    >>> parse_received("by mx.example (Postfix, from userid 0) id 1234; Mon, 1 Jan 2024 00:00:00 +0000")["from"]
    ''
    >>> parse_received("from [100.100.100.100] (helo=client) by mail.contoso.com with ESMTP")["time"]
    ''
    """
    text = _unfold(value)
    head, sep, date = text.rpartition(";")
    if not sep:
        head, date = text, ""
    result = dict.fromkeys(CLAUSES, "")
    result["time"] = date.strip()
    current: str | None = None
    parts: dict[str, list[str]] = {k: [] for k in CLAUSES}
    depth = 0
    for word in head.split(" "):
        if depth == 0 and word.lower() in CLAUSES and (current is None or parts[current]):
            current = word.lower()
            continue
        depth += word.count("(") - word.count(")")
        depth = max(depth, 0)
        if current is not None:
            parts[current].append(word)
    for key, words in parts.items():
        result[key] = " ".join(words).strip()
    return result


def received_values(message: Message | str) -> list[str]:
    """The ``Received:`` values of a message (or of raw header text), top (newest) first."""
    if isinstance(message, str):
        from email import message_from_string
        from email.policy import default

        message = message_from_string(message if "\n\n" in message else message + "\n\n", policy=default)
    return [str(v) for v in (message.get_all("Received") or [])]


def received_chain(message: Message | str) -> pd.DataFrame:
    """The hops a message took, oldest first: Hop, By, From, With, Time.

    Args:
        message: an `email.message.Message` (e.g. ``lab.mailbox(...).message(0)``) or raw header text.

    >>> raw = ("Received: from mail.contoso.com (100.100.100.254) by mail.xutonglin.com (192.168.8.10)\\n"
    ...        " with Microsoft SMTP Server id 14.0.639.21; Sat, 28 Nov 2026 09:00:02 +0000\\n"
    ...        "Received: from mail.contoso.com (127.0.0.1) by mail.contoso.com (100.100.100.10)\\n"
    ...        " with Microsoft SMTP Server id 14.0.639.21; Sat, 28 Nov 2026 09:00:01 +0000\\n"
    ...        "Subject: hi\\n\\nbody\\n")
    >>> received_chain(raw)[["Hop", "By"]].to_dict("records")
    [{'Hop': 1, 'By': 'mail.contoso.com (100.100.100.10)'}, {'Hop': 2, 'By': 'mail.xutonglin.com (192.168.8.10)'}]
    """
    values = list(reversed(received_values(message)))
    rows = []
    for hop, value in enumerate(values, start=1):
        parsed = parse_received(value)
        rows.append({"Hop": hop, "By": parsed["by"], "From": parsed["from"], "With": parsed["with"], "Time": parsed["time"]})
    return pd.DataFrame(rows, columns=list(HOP_COLUMNS))
