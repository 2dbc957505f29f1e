"""Claiming rows for one worker with a lease, the way several daemon copies share work.

A row is free when its lease has expired (or it never had one). One transaction selects
free rows and stamps them with the worker's name and a lease deadline. On PostgreSQL the
select takes `FOR UPDATE SKIP LOCKED`, so concurrent workers skip each other's rows instead
of waiting; on SQLite the writer transaction (`BEGIN IMMEDIATE`) already serialises them.
A killed worker loses nothing: its leases expire and the rows become free again.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session


def claim(
    session: Session,
    table: sa.Table,
    *,
    key: sa.Column[Any],
    owner_col: sa.Column[Any],
    expires_col: sa.Column[Any],
    where: sa.ColumnElement[bool] | None,
    order_by: list[Any] | None,
    limit: int,
    owner: str,
    now: datetime,
    lease_seconds: float,
) -> list[Any]:
    """Claim up to `limit` free rows matching `where`; returns their keys."""
    free = sa.or_(expires_col.is_(None), expires_col < now)
    cond = free if where is None else sa.and_(where, free)
    q = sa.select(key).where(cond).limit(limit)
    if order_by:
        q = q.order_by(*order_by)
    if session.get_bind().dialect.name == "postgresql":
        q = q.with_for_update(skip_locked=True)
    keys = list(session.scalars(q))
    if keys:
        session.execute(
            sa.update(table)
            .where(key.in_(keys))
            .values({owner_col.name: owner, expires_col.name: now + timedelta(seconds=lease_seconds)})
        )
    return keys


def release(session: Session, table: sa.Table, *, key: sa.Column[Any], owner_col: sa.Column[Any],
            expires_col: sa.Column[Any], keys: list[Any], owner: str) -> None:
    """Give rows back before their lease ends (only the ones this worker holds)."""
    if keys:
        session.execute(
            sa.update(table)
            .where(key.in_(keys), owner_col == owner)
            .values({owner_col.name: None, expires_col.name: None})
        )
