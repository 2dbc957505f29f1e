"""Helpers shared by the rules tests (imported by name: pytest puts this folder on the path)."""

from __future__ import annotations

import random

import sqlalchemy as sa

from onegrid.catalog import rses
from onegrid.catalog.rules import service
from onegrid.catalog.tables import Replica
from onegrid.runtime import Runtime
from onegrid.transfers.tables import TransferRequest


def add(grid: Runtime, expression: str, did: str = "ds", copies: int = 1, **kw) -> str:  # type: ignore[no-untyped-def]
    with grid.transaction() as s:
        (rule_id,) = service.add_rules(s, grid.clock, random.Random(7), dids=[{"scope": "belle", "name": did}],
                                       account=kw.pop("account", "alice"), copies=copies,
                                       rse_expression=expression, **kw)
    return rule_id


def replica_rows(grid: Runtime, rse: str) -> dict[str, Replica]:
    with grid.reading() as s:
        rse_id = rses.get_rse(s, rse).id
        rows = s.scalars(sa.select(Replica).where(Replica.rse_id == rse_id)).all()
        for r in rows:
            s.expunge(r)
    return {r.name: r for r in rows}


def requests(grid: Runtime) -> list[TransferRequest]:
    with grid.reading() as s:
        rows = list(s.scalars(sa.select(TransferRequest).order_by(TransferRequest.id)))
        for r in rows:
            s.expunge(r)
    return rows
