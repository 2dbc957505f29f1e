"""The tables the dashboard reads, looked up once in the shared metadata.

The monitor reads every subsystem's tables but owns none. Subsystems land at different
times, so the tables of one that has not landed yet are simply absent here (`None`) and
the figures that depend on them come back empty; no query is ever sent to a missing table.
"""

from __future__ import annotations

import sqlite3

import sqlalchemy as sa

import onegrid.db.registry  # noqa: F401  (imports every subsystem's tables into the metadata)
from onegrid.db.base import Base


def optional_table(name: str) -> sa.Table | None:
    return Base.metadata.tables.get(name)


TRANSFER_REQUESTS = optional_table("transfer_requests")
TRANSFER_HISTORY = optional_table("transfer_history")
TRANSFER_LINKS = optional_table("transfer_links")
RULES = optional_table("rules")
RULE_LOCKS = optional_table("rule_locks")
JULIAN_DAY_OF_1970 = 2440587.5  # 1970-01-01T00:00Z as a Julian day number


def epoch_seconds(column: sa.ColumnElement[object], dialect: sa.Dialect) -> sa.ColumnElement[int]:
    """Seconds since 1970 of a UTC timestamp column, in SQL (for time buckets).

    On SQLite `unixepoch()` (3.38+) parses the stored text six times faster than
    `strftime('%s')`; older libraries take the Julian day."""
    if dialect.name == "sqlite":
        if sqlite3.sqlite_version_info >= (3, 38):
            return sa.cast(sa.func.unixepoch(column), sa.Integer)
        # CAST truncates (a floor after 1970); the 0.1 ms covers the float's error (~50 us)
        # so that a timestamp on a bucket's first second is not put in the bucket before.
        return sa.cast((sa.func.julianday(column) - JULIAN_DAY_OF_1970) * 86400 + 1e-4, sa.Integer)
    return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
