"""Time series in SQL: a value summed per label and per fixed-width time bucket.

One GROUP BY (label, bucket) over an indexed timestamp range; the buckets are whole
multiples of their width since 1970, so every reader of the same span sees the same bars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.monitor.sources import epoch_seconds

MAX_BUCKETS = 2000  # bars on one chart, whatever span is asked for


@dataclass(frozen=True)
class Span:
    since: datetime
    until: datetime
    bucket_seconds: int

    @classmethod
    def last(cls, now: datetime, hours: int, bucket_minutes: int) -> Span:
        bucket = 60 * bucket_minutes
        if hours * 3600 // bucket > MAX_BUCKETS:
            bucket = hours * 3600 // MAX_BUCKETS
        return cls(since=now - timedelta(hours=hours), until=now, bucket_seconds=bucket)

    @property
    def starts(self) -> list[int]:
        first = int(self.since.timestamp()) // self.bucket_seconds * self.bucket_seconds
        return list(range(first, int(self.until.timestamp()) + 1, self.bucket_seconds))


def summed_series(session: Session, span: Span, *, label: Any, value: Any, at: Any,
                  where: list[Any], key: str) -> dict[str, Any]:
    """`value` summed per `label` and bucket of `at`, zeros where nothing happened."""
    starts = span.starts
    bucket = epoch_seconds(at, session.get_bind().dialect) // span.bucket_seconds
    q = (sa.select(label, bucket, sa.func.sum(value))
         .where(at >= datetime.fromtimestamp(starts[0], UTC), *where)
         .group_by(label, bucket))
    index = {s // span.bucket_seconds: i for i, s in enumerate(starts)}
    series: dict[str, list[float]] = {}
    for name, slot, total in session.execute(q):
        i = index.get(int(slot))
        if i is not None:
            series.setdefault(name or "", [0] * len(starts))[i] += total or 0
    return {"bucket_seconds": span.bucket_seconds,
            "buckets": [datetime.fromtimestamp(s, UTC).isoformat() for s in starts],
            "series": [{"label": name, key: values} for name, values in sorted(series.items())]}


def empty_series(span: Span) -> dict[str, Any]:
    return {"bucket_seconds": span.bucket_seconds,
            "buckets": [datetime.fromtimestamp(s, UTC).isoformat() for s in span.starts], "series": []}
