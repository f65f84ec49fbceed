"""DataFrame views of records: a fixed column order, stable sorting, readable times."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from typing import Any

import pandas as pd


def format_time(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds, as Exchange writes `date-time` (e.g. 2026-11-28T09:00:00.123Z)."""
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def frame(rows: Iterable[Any], columns: Mapping[str, str] | Sequence[str]) -> pd.DataFrame:
    """Build a DataFrame with exactly `columns`, in that order.

    Args:
        rows: dataclass instances or mappings.
        columns: either a list of field names, or a mapping field name → column title.

    Returns:
        A DataFrame whose columns are the titles; datetimes are rendered as text
        so that the notebooks' sanitize file can mask them.
    """
    mapping = dict(columns) if isinstance(columns, Mapping) else {c: c for c in columns}
    records = []
    for row in rows:
        data = asdict(row) if is_dataclass(row) and not isinstance(row, type) else dict(row)
        record = {}
        for key, title in mapping.items():
            value = data.get(key, "")
            if isinstance(value, datetime):
                value = format_time(value)
            record[title] = value
        records.append(record)
    df = pd.DataFrame.from_records(records, columns=list(mapping.values()))
    return df


#: Columns that lead a merged tracking table (the rest follow in the servers' order).
TRACKING_LEADING = ("Timestamp", "Server", "EventId", "Source", "Sender", "Recipients", "MessageSubject", "RecipientStatus")


def merge_logs(logs: dict[str, pd.DataFrame], leading: Sequence[str] = TRACKING_LEADING) -> pd.DataFrame:
    """One table from per-server tracking logs: a Server column, time-ordered (stable within a server).

    >>> a = pd.DataFrame({"Timestamp": ["2026-11-28T09:00:02.000Z"], "EventId": ["SEND"]})
    >>> b = pd.DataFrame({"Timestamp": ["2026-11-28T09:00:01.000Z", "2026-11-28T09:00:03.000Z"],
    ...                   "EventId": ["SUBMIT", "RECEIVE"]})
    >>> merge_logs({"mail.contoso.com": a, "mail.xutonglin.com": b})[["Server", "EventId"]].values.tolist()
    [['mail.xutonglin.com', 'SUBMIT'], ['mail.contoso.com', 'SEND'], ['mail.xutonglin.com', 'RECEIVE']]
    """
    frames = [df.assign(Server=server) for server, df in logs.items() if not df.empty]
    if not frames:
        columns = list(dict.fromkeys([*leading, *(c for df in logs.values() for c in df.columns)]))
        return pd.DataFrame(columns=columns)
    merged = pd.concat(frames, ignore_index=True)
    if "Timestamp" in merged.columns:
        merged = merged.sort_values("Timestamp", kind="stable", key=lambda s: s.astype(str))
    ordered = [c for c in leading if c in merged.columns] + [c for c in merged.columns if c not in leading]
    return merged[ordered].reset_index(drop=True)
