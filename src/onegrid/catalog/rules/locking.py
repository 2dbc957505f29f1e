"""Locks going away: replicas' lock counts, tombstones, and the transfers nobody needs.

`bump_replicas` moves many replicas' lock counts in one executemany; `release_locks`
removes a rule's locks (rule deleted, files detached) in bulk, tombstones what nobody
holds and cancels transfers to replicas no lock wants any more.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import accounting, bulk
from onegrid.catalog import dids as did_ops
from onegrid.catalog.rules.tables import Lock, LockState, Rule
from onegrid.catalog.tables import Replica, ReplicaState
from onegrid.clock import Clock
from onegrid.transfers import service as transfers
from onegrid.transfers.tables import ACTIVE_STATES, TransferRequest

# A tombstone this old means "delete as soon as possible" (purge_replicas), as Rucio's OBSOLETE.
OBSOLETE = datetime(1970, 1, 1, tzinfo=UTC)


def bump_replicas(session: Session, now: datetime, keys: list[dict[str, Any]], delta: int, *,
                   state: ReplicaState | None = None, tombstone: datetime | None = None) -> None:
    """lock_cnt += delta on many replicas (executemany). A replica that gains a lock loses
    its tombstone; one that loses its last lock gets `tombstone`."""
    if not keys:
        return
    t = Replica.__table__
    values: dict[str, Any] = {"lock_cnt": t.c.lock_cnt + delta, "updated_at": now}
    if delta > 0:
        values["tombstone"] = None
    elif tombstone is not None:
        values["tombstone"] = sa.case((t.c.lock_cnt + delta <= 0, tombstone), else_=t.c.tombstone)
    if state is not None:
        values["state"] = state
    stmt = sa.update(t).where(t.c.scope == sa.bindparam("b_scope"), t.c.name == sa.bindparam("b_name"),
                              t.c.rse_id == sa.bindparam("b_rse")).values(values)
    session.execute(stmt.execution_options(synchronize_session=False), keys)


def release_locks(session: Session, clock: Clock, rule: Rule, keys: Iterable[tuple[str, str, int]], *,
                  purge: bool | None = None) -> int:
    """Remove locks of the rule; replicas nobody holds any more get a tombstone (now, or
    OBSOLETE when purging: the reaper deletes those at once); transfers nobody needs are
    cancelled; the account's usage goes down."""
    keys = list(keys)
    if not keys:
        return 0
    now = clock.now()
    purge = rule.purge_replicas if purge is None else purge
    locks: list[tuple[str, str, int, int, LockState]] = []
    by_rse: dict[int, list[tuple[str, str]]] = {}
    for s, n, r in keys:
        by_rse.setdefault(r, []).append((s, n))
    for r, pairs in by_rse.items():
        names = sorted({n for _s, n in pairs})
        wanted = set(pairs)
        for part in did_ops.chunks(names):
            query = sa.select(Lock.scope, Lock.name, Lock.bytes, Lock.state).where(
                Lock.rule_id == rule.id, Lock.rse_id == r)
            for s, n, b, st in session.execute(bulk.where_in(session, query, Lock.name, part)):
                if (s, n) in wanted:
                    locks.append((s, n, r, b, st))
    if not locks:
        return 0
    t = Lock.__table__
    session.execute(sa.delete(t).where(t.c.rule_id == rule.id, t.c.scope == sa.bindparam("b_scope"),
                                       t.c.name == sa.bindparam("b_name"), t.c.rse_id == sa.bindparam("b_rse"))
                    .execution_options(synchronize_session=False),
                    [{"b_scope": s, "b_name": n, "b_rse": r} for s, n, r, _b, _st in locks])
    params = [{"b_scope": s, "b_name": n, "b_rse": r} for s, n, r, _b, _st in locks]
    bump_replicas(session, now, params, -1, tombstone=OBSOLETE if purge else now)
    _cancel_unneeded(session, clock, [(s, n, r) for s, n, r, _b, st in locks if st is not LockState.OK])
    usage: dict[int, list[int]] = {}
    for _s, _n, r, b, _st in locks:
        u = usage.setdefault(r, [0, 0])
        u[0] -= 1
        u[1] -= b
    for r, (files, nbytes) in usage.items():
        accounting.add_account_usage(session, clock, rule.account, r, files, nbytes)
    return len(locks)


def _cancel_unneeded(session: Session, clock: Clock, keys: list[tuple[str, str, int]]) -> None:
    """Cancel transfers to replicas no lock holds any more; such a COPYING replica is
    made obsolete (there is nothing worth keeping). Bulk: one query per RSE and chunk."""
    if not keys:
        return
    by_rse: dict[int, list[tuple[str, str]]] = {}
    for s, n, r in keys:
        by_rse.setdefault(r, []).append((s, n))
    orphans: list[tuple[str, str, int]] = []
    ids: list[int] = []
    active = [st.value for st in ACTIVE_STATES]
    for r, pairs in by_rse.items():
        wanted = set(pairs)
        for part in did_ops.chunks(sorted({n for _s, n in pairs})):
            query = sa.select(Replica.scope, Replica.name).where(
                Replica.rse_id == r, Replica.lock_cnt <= 0, Replica.state == ReplicaState.COPYING)
            found = [(s, n) for s, n in session.execute(bulk.where_in(session, query, Replica.name, part))
                     if (s, n) in wanted]
            orphans.extend((s, n, r) for s, n in found)
            names = sorted({n for _s, n in found})
            if names:
                q = sa.select(TransferRequest.id, TransferRequest.scope, TransferRequest.name).where(
                    TransferRequest.dest_rse_id == r, TransferRequest.state.in_(active))
                keep = set(found)
                ids.extend(i for i, s, n in session.execute(bulk.where_in(session, q, TransferRequest.name, names))
                           if (s, n) in keep)
    if ids:
        transfers.cancel_requests(session, ids, clock)
    if orphans:
        t = Replica.__table__
        session.execute(sa.update(t).where(t.c.scope == sa.bindparam("b_scope"), t.c.name == sa.bindparam("b_name"),
                                           t.c.rse_id == sa.bindparam("b_rse")).values(tombstone=OBSOLETE)
                        .execution_options(synchronize_session=False),
                        [{"b_scope": s, "b_name": n, "b_rse": r} for s, n, r in orphans])
