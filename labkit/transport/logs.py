"""The message tracking log and the SMTP protocol logs: typed records, their columns, and a session writer.

Each record is appended to the lab's `EventLog` (so pictures and traces can follow
it live) and to the server's SQLite store (so it survives a restart). Views use
the product's column names and order (facts §5.2, §5.3).
"""

from __future__ import annotations

import json
import json.encoder
from collections.abc import Callable
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Any, Literal

from labkit.events import Event, utcnow
from labkit.views import format_time

ProtocolKind = Literal["receive", "send"]


@dataclass(frozen=True)
class TrackingEvent(Event):
    """One message tracking log row (facts §5.2); `server` says which server wrote it."""

    server: str
    event_id: str
    source: str
    sender: str = ""
    recipients: tuple[str, ...] = ()
    message_subject: str = ""
    client_ip: str = ""
    client_hostname: str = ""
    server_ip: str = ""
    server_hostname: str = ""
    source_context: str = ""
    connector_id: str = ""
    internal_message_id: int = 0
    message_id: str = ""
    recipient_status: tuple[str, ...] = ()
    total_bytes: int = 0
    recipient_count: int = 0
    related_recipient_address: str = ""
    reference: str = ""
    return_path: str = ""
    message_info: str = ""


@dataclass(frozen=True)
class ProtocolEvent(Event):
    """One SMTP protocol log line (facts §5.3); `kind` is ``receive`` or ``send``."""

    server: str
    kind: str
    connector_id: str
    session_id: str
    sequence_number: int
    local_endpoint: str
    remote_endpoint: str
    event: str  # + - > < *
    data: str = ""
    context: str = ""


#: Get-MessageTrackingLog columns: the default table (EventId Source Sender Recipients MessageSubject), then the rest.
TRACKING_COLUMNS: dict[str, str] = {
    "event_id": "EventId",
    "source": "Source",
    "sender": "Sender",
    "recipients": "Recipients",
    "message_subject": "MessageSubject",
    "time": "Timestamp",
    "client_ip": "ClientIp",
    "client_hostname": "ClientHostname",
    "server_ip": "ServerIp",
    "server_hostname": "ServerHostname",
    "source_context": "SourceContext",
    "connector_id": "ConnectorId",
    "internal_message_id": "InternalMessageId",
    "message_id": "MessageId",
    "recipient_status": "RecipientStatus",
    "total_bytes": "TotalBytes",
    "recipient_count": "RecipientCount",
    "related_recipient_address": "RelatedRecipientAddress",
    "reference": "Reference",
    "return_path": "ReturnPath",
    "message_info": "MessageInfo",
}

#: Protocol log fields, as in the log's #Fields line.
PROTOCOL_COLUMNS: dict[str, str] = {
    "time": "date-time",
    "connector_id": "connector-id",
    "session_id": "session-id",
    "sequence_number": "sequence-number",
    "local_endpoint": "local-endpoint",
    "remote_endpoint": "remote-endpoint",
    "event": "event",
    "data": "data",
    "context": "context",
}


def to_json(record: Event) -> str:
    """A record as one JSON line for the store (time as the log's ISO text).

    The same text as ``json.dumps(fields, ensure_ascii=False)`` of its fields in order, written directly for
    the field types records use (text, whole numbers, tuples of text): `json.dumps` and `dataclasses.asdict`
    cost more than the rest of a log write. Any other value falls back to `json.dumps`.
    """
    parts = ["{"]
    for name, key in _field_keys(type(record)):
        value = getattr(record, name)
        kind = type(value)
        if name == "time":
            text = _encode(_format_time(record.time))
        elif kind is str:
            text = _encode(value)
        elif kind is int:
            text = int.__repr__(value)
        elif kind is tuple and all(type(item) is str for item in value):
            text = "[" + ", ".join(map(_encode, value)) + "]"
        else:
            return _to_json_slow(record)
        parts += (key, text)
    parts.append("}")
    return "".join(parts)


def _to_json_slow(record: Event) -> str:
    data = {name: getattr(record, name) for name, _ in _field_keys(type(record))}
    data["time"] = format_time(record.time)
    return json.dumps(data, ensure_ascii=False)


_encode: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) or json.encoder.py_encode_basestring
_FIELDS: dict[type, tuple[tuple[str, str], ...]] = {}


def _field_keys(kind: type) -> tuple[tuple[str, str], ...]:
    """Each field's name and the JSON text that precedes its value (``"name": ``, with ``, `` after the first)."""
    keys = _FIELDS.get(kind)
    if keys is None:
        names = [f.name for f in fields(kind)]
        keys = _FIELDS[kind] = tuple((n, ("" if i == 0 else ", ") + json.dumps(n) + ": ") for i, n in enumerate(names))
    return keys


_last_second: list[Any] = [None, ""]  # (year, month, day, hour, minute, second), its text up to the dot


def _format_time(value: datetime) -> str:
    """`format_time`, reusing the text of the second before (log lines come many to a second)."""
    second = (value.second, value.minute, value.hour, value.day, value.month, value.year)
    if second != _last_second[0]:
        _last_second[:] = [second, format_time(value)[:-4]]
    return f"{_last_second[1]}{value.microsecond // 1000:03d}Z"


def from_json(text: str) -> dict[str, Any]:
    """A stored row as a mapping for `labkit.views.frame`; multi-valued fields joined with ``;`` as in the CSV."""
    data: dict[str, Any] = json.loads(text)
    for key in ("recipients", "recipient_status"):
        if isinstance(data.get(key), list):
            data[key] = ";".join(data[key])
    return data


def timespan(delta: timedelta) -> str:
    """A .NET TimeSpan as the protocol log prints it: ``0.00:00:05`` (fraction only when there is one).

    >>> timespan(timedelta(seconds=5)), timespan(timedelta(seconds=0.2))
    ('0.00:00:05', '0.00:00:00.2000000')
    """
    total = delta.total_seconds()
    days, rest = divmod(int(total), 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    text = f"{days}.{hours:02d}:{minutes:02d}:{seconds:02d}"
    fraction = round((total - int(total)) * 10**7)
    return text + (f".{fraction:07d}" if fraction else "")


class ProtocolSession:
    """Writes the lines of one SMTP session with its session id and sequence numbers.

    Args:
        emit: appends a finished record (to the event log and the store).
        server: the server's FQDN.
        kind: ``receive`` or ``send``.
        connector_id: ``MAIL\\Default MAIL`` (receive) or the send connector's name.
        session_id: 16 hex digits.
        local, remote: virtual ``ip:port`` endpoints.
        enabled: False when the connector's ProtocolLoggingLevel is ``None`` (nothing is written).
    """

    def __init__(
        self,
        emit: Callable[[ProtocolEvent], None],
        server: str,
        kind: ProtocolKind,
        connector_id: str,
        session_id: str,
        local: str = "",
        remote: str = "",
        enabled: bool = True,
    ) -> None:
        self._emit = emit
        self.server, self.kind, self.connector_id, self.session_id = server, kind, connector_id, session_id
        self.local, self.remote, self.enabled = local, remote, enabled
        self._seq = 0

    def write(self, event: str, data: str = "", context: str = "", when: datetime | None = None) -> None:
        """Append one line: `event` is ``+`` connect, ``-`` disconnect, ``>`` sent, ``<`` received, ``*`` info."""
        if not self.enabled:
            return
        record = ProtocolEvent(
            self.server, self.kind, self.connector_id, self.session_id, self._seq, self.local, self.remote, event,
            data, context, time=when or utcnow(),
        )  # fmt: skip
        self._seq += 1
        self._emit(record)
