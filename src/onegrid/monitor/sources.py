"""The tables the dashboard reads, looked up once in the shared metadata.

The monitor reads every subsystem's tables but owns none. Subsystems land at different
times, so the tables of one that has not landed yet are simply absent here (`None`) and
the figures that depend on them come back empty; no query is ever sent to a missing table.
"""

from __future__ import annotations

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


def epoch_seconds(column: sa.ColumnElement[object], dialect: sa.Dialect) -> sa.ColumnElement[int]:
    """Seconds since 1970 of a UTC timestamp column, in SQL (for time buckets)."""
    if dialect.name == "sqlite":
        return sa.cast(sa.func.strftime("%s", column), sa.Integer)
    return sa.cast(sa.func.floor(sa.extract("epoch", column)), sa.BigInteger)
