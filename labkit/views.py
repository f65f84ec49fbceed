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
