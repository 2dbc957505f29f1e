"""Turning a rule into locks, replicas and transfer requests, and back.

`evaluate_rule` brings a rule's locks in line with its DID's current content: files
without enough locks get them (placed by `placement`), files no longer below the DID lose
them. It is how a rule is created, how attached and detached files are followed and how
a STUCK rule is retried. Everything is bulk: one query per dataset for contents and
replicas, one bulk insert each for locks, replicas and requests, one executemany for
the replica lock counts, all in the caller's transaction together with the account usage.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import accounting, bulk, did_tree, rses
from onegrid.catalog import dids as did_ops
from onegrid.catalog.errors import RSEExpressionMatchesNothing
from onegrid.catalog.rules.errors import NoWritableRSE
from onegrid.catalog.rules.locking import bump_replicas, release_locks
from onegrid.catalog.rules.placement import Candidate, plan_group, weight_of
from onegrid.catalog.rules.tables import DatasetLock, Grouping, Lock, LockState, Rule, RuleState
from onegrid.catalog.tables import RSE, Content, DIDType, Replica, ReplicaState, RSEAttribute
from onegrid.clock import Clock
from onegrid.errors import QuotaExceeded
from onegrid.transfers import service as transfers

_LOCKABLE = {ReplicaState.AVAILABLE}
_NEEDS_COPY = {ReplicaState.UNAVAILABLE, ReplicaState.BAD, ReplicaState.TEMPORARY_UNAVAILABLE}

FileRow = tuple[str, str, int, str | None, str | None]  # scope, name, bytes, adler32, md5


@dataclass
class Outcome:
    """What one evaluation did, for the judge's counters and the benchmark."""

    locks_added: int = 0
    locks_removed: int = 0
    requests: int = 0
    by_state: dict[LockState, int] = field(default_factory=dict)


# -- what the rule covers ------------------------------------------------------------------


def files_by_dataset(session: Session, rule: Rule) -> dict[tuple[str, str] | None, list[FileRow]]:
    """The files below the rule's DID, by the dataset that holds them (None for a file rule)."""
    if rule.did_type is DIDType.FILE:
        d = did_ops.get_did(session, rule.scope, rule.name)
        return {None: [(d.scope, d.name, int(d.bytes or 0), d.adler32, d.md5)]}
    _files, datasets = did_tree.datasets_below(session, [(rule.scope, rule.name)])
    out: dict[tuple[str, str] | None, list[FileRow]] = {}
    for ds in datasets:
        rows = session.execute(sa.select(Content.child_scope, Content.child_name, Content.bytes, Content.adler32,
                                         Content.md5).where(Content.scope == ds[0], Content.name == ds[1]))
        out[ds] = [(s, n, int(b or 0), a, m) for s, n, b, a, m in rows]
    return out


def candidates(session: Session, rule: Rule) -> list[Candidate]:
    """The RSEs the rule's expression selects that can take data, with their weights."""
    try:
        names = rses.resolve_expression(session, rule.rse_expression)
    except RSEExpressionMatchesNothing:
        raise NoWritableRSE(f"rule refused: expression {rule.rse_expression!r} matches no RSE") from None
    query = sa.select(RSE.id, RSE.name, RSE.availability_write).where(RSE.name.in_(names), RSE.deleted_at.is_(None))
    rows = [(i, n) for i, n, writable in session.execute(query) if writable or rule.ignore_availability]
    if not rows:
        raise NoWritableRSE(f"rule refused: expression {rule.rse_expression!r} matches no writable RSE "
                            f"(it matches {', '.join(names)})")
    weights: dict[int, float] = {}
    if rule.weight:
        weights = {i: weight_of(v) for i, v in session.execute(
            sa.select(RSEAttribute.rse_id, RSEAttribute.value).where(
                RSEAttribute.key == rule.weight, RSEAttribute.rse_id.in_([i for i, _ in rows])))}
    return [Candidate(i, n, weights.get(i, 0.0) if rule.weight else 1.0) for i, n in rows]


def _replicas_of(session: Session, dataset: tuple[str, str] | None, files: Sequence[FileRow],
                 rse_ids: Sequence[int]) -> dict[tuple[str, str, int], tuple[ReplicaState, int]]:
    """(scope, name, rse) -> (state, bytes) of the files' replicas on the given RSEs."""
    out: dict[tuple[str, str, int], tuple[ReplicaState, int]] = {}
    if not files or not rse_ids:
        return out
    if dataset is not None:
        query = (sa.select(Replica.scope, Replica.name, Replica.rse_id, Replica.state, Replica.bytes)
                 .join(Content, sa.and_(Content.child_scope == Replica.scope, Content.child_name == Replica.name))
                 .where(Content.scope == dataset[0], Content.name == dataset[1], Replica.rse_id.in_(list(rse_ids))))
        for s, n, r, st, b in session.execute(query):
            out[(s, n, r)] = (st, b)
        return out
    by_scope: dict[str, list[str]] = {}
    for s, n, *_ in files:
        by_scope.setdefault(s, []).append(n)
    for s, names in by_scope.items():
        for part in did_ops.chunks(names):
            query = sa.select(Replica.name, Replica.rse_id, Replica.state, Replica.bytes).where(
                Replica.scope == s, Replica.rse_id.in_(list(rse_ids)))
            for n, r, st, b in session.execute(bulk.where_in(session, query, Replica.name, part)):
                out[(s, n, r)] = (st, b)
    return out


# -- evaluation ----------------------------------------------------------------------------


def evaluate_rule(session: Session, clock: Clock, rule: Rule, rng: random.Random, *,
                  check_quota: bool = False) -> Outcome:
    """Bring the rule's locks in line with its DID's content (see the module docstring)."""
    outcome = Outcome()
    groups = files_by_dataset(session, rule)
    existing: dict[tuple[str, str], dict[int, LockState]] = {}
    for s, n, r, st in session.execute(sa.select(Lock.scope, Lock.name, Lock.rse_id, Lock.state)
                                       .where(Lock.rule_id == rule.id)):
        existing.setdefault((s, n), {})[r] = st
    wanted = {(f[0], f[1]) for files in groups.values() for f in files}
    stale = [(s, n, r) for (s, n), by_rse in existing.items() if (s, n) not in wanted for r in by_rse]
    if stale:
        outcome.locks_removed = release_locks(session, clock, rule, stale)
    missing_any = any(len(existing.get((f[0], f[1]), {})) < rule.copies for files in groups.values() for f in files)
    # A dataset gets its RSEs chosen even while empty, so files attached later follow it.
    unchosen = rule.grouping is not Grouping.NONE and bool(
        {ds for ds in groups if ds is not None} - set(_dataset_choices(session, rule)))
    if missing_any or unchosen:
        cands = candidates(session, rule)
        _add_missing(session, clock, rule, rng, groups, existing, cands, outcome, check_quota)
    refresh_counters(session, clock, rule)
    return outcome


def _dataset_choices(session: Session, rule: Rule) -> dict[tuple[str, str], list[int]]:
    out: dict[tuple[str, str], list[int]] = {}
    for s, n, r in session.execute(sa.select(DatasetLock.scope, DatasetLock.name, DatasetLock.rse_id)
                                   .where(DatasetLock.rule_id == rule.id).order_by(DatasetLock.created_at)):
        out.setdefault((s, n), []).append(r)
    return out


def _add_missing(session: Session, clock: Clock, rule: Rule, rng: random.Random,
                 groups: dict[tuple[str, str] | None, list[FileRow]],
                 existing: dict[tuple[str, str], dict[int, LockState]], cands: list[Candidate],
                 outcome: Outcome, check_quota: bool) -> None:
    cand_ids = [c.rse_id for c in cands]
    chosen_before = _dataset_choices(session, rule)
    all_fixed = list(dict.fromkeys(r for rs in chosen_before.values() for r in rs))
    new_locks: list[tuple[FileRow, int, ReplicaState | None]] = []
    new_dataset_locks: list[tuple[tuple[str, str], int]] = []
    for dataset, files in sorted(groups.items(), key=lambda kv: kv[0] or ("", "")):
        todo = [f for f in files if len(existing.get((f[0], f[1]), {})) < rule.copies]
        one_set = rule.grouping is not Grouping.NONE or dataset is None
        if not todo and (dataset is None or not one_set or chosen_before.get(dataset)):
            continue
        reps = _replicas_of(session, dataset, todo, cand_ids)
        present: dict[tuple[str, str], dict[int, int]] = {}
        for (s, n, r), (st, b) in reps.items():
            if st in (ReplicaState.AVAILABLE, ReplicaState.COPYING):
                present.setdefault((s, n), {})[r] = b
        fixed = all_fixed if rule.grouping is Grouping.ALL else chosen_before.get(dataset, []) if dataset else []
        if not fixed and one_set:
            # Files already locked (e.g. a rule created before dataset locks existed) keep their RSEs.
            fixed = list(dict.fromkeys(r for f in todo for r in existing.get((f[0], f[1]), {})))
        group, plans = plan_group([(f[0], f[1]) for f in todo], cands, rule.copies, rng, grouping_one_set=one_set,
                                  present=present, fixed=fixed,
                                  locked={k: list(v) for k, v in existing.items()})
        if rule.grouping is Grouping.ALL and not all_fixed:
            all_fixed = list(group)
        if dataset is not None and one_set:
            for r in group:
                if r not in chosen_before.get(dataset, []):
                    new_dataset_locks.append((dataset, r))
            chosen_before.setdefault(dataset, []).extend(r for r in group if r not in chosen_before.get(dataset, []))
        by_key = {(f[0], f[1]): f for f in todo}
        for plan in plans:
            f = by_key[(plan.scope, plan.name)]
            have = existing.get((plan.scope, plan.name), {})
            for r in plan.rse_ids:
                if r not in have and len(have) < rule.copies:
                    state = reps.get((plan.scope, plan.name, r), (None, 0))[0]
                    new_locks.append((f, r, state))
                    have = {**have, r: LockState.REPLICATING}
            existing[(plan.scope, plan.name)] = have
    if check_quota and not rule.ignore_account_limit:
        per_rse: dict[int, int] = {}
        for f, r, _st in new_locks:
            per_rse[r] = per_rse.get(r, 0) + f[2]
        for r, nbytes in sorted(per_rse.items()):
            accounting.check_quota(session, rule.account, r, nbytes)
        _check_global_quota(session, rule.account, per_rse)
    now = clock.now()
    if new_dataset_locks:
        bulk.insert_rows(session, DatasetLock.__table__, [
            {"rule_id": rule.id, "scope": d[0], "name": d[1], "rse_id": r, "created_at": now}
            for d, r in new_dataset_locks])
    apply_new_locks(session, clock, rule, new_locks, outcome)


def _check_global_quota(session: Session, account: str, per_rse: dict[int, int]) -> None:
    """Global limits: bytes over all RSEs an expression selects (`country=DE`)."""
    limits = accounting.global_limits(session, account)
    if not limits or not per_rse:
        return
    ids = dict(session.execute(sa.select(RSE.name, RSE.id)).all())
    for usage in accounting.global_usage(session, account):
        selected = {ids[n] for n in rses.resolve_expression(session, usage["rse_expression"], allow_empty=True)
                    if n in ids}
        extra = sum(b for r, b in per_rse.items() if r in selected)
        if extra and usage["bytes"] + extra > usage["bytes_limit"]:
            raise QuotaExceeded(f"account {account} would use {usage['bytes'] + extra} bytes on "
                                f"{usage['rse_expression']!r}, its global limit is {usage['bytes_limit']}")


def apply_new_locks(session: Session, clock: Clock, rule: Rule,
                    new_locks: Sequence[tuple[FileRow, int, ReplicaState | None]], outcome: Outcome) -> None:
    """Write locks; bump the replicas' lock counts (creating COPYING replicas where none
    exist); queue transfers for what is not there; move the account's usage."""
    if not new_locks:
        return
    now = clock.now()
    lock_rows: list[dict[str, Any]] = []
    bump: list[dict[str, Any]] = []
    recopy: list[dict[str, Any]] = []
    new_replicas: list[dict[str, Any]] = []
    requests: list[transfers.NewRequest] = []
    fresh: list[transfers.NewRequest] = []  # to replicas made just now: no request can be active
    usage: dict[int, list[int]] = {}
    for (s, n, size, adler32, md5), r, state in new_locks:
        error = None
        if state in _LOCKABLE:
            lock_state = LockState.OK
        elif state is ReplicaState.BEING_DELETED:
            lock_state, error = LockState.STUCK, "the replica on the destination is being deleted"
        else:
            lock_state = LockState.REPLICATING
        lock_rows.append({"rule_id": rule.id, "scope": s, "name": n, "rse_id": r, "account": rule.account,
                          "bytes": size, "state": lock_state, "error": error, "created_at": now, "updated_at": now})
        outcome.by_state[lock_state] = outcome.by_state.get(lock_state, 0) + 1
        u = usage.setdefault(r, [0, 0])
        u[0] += 1
        u[1] += size
        if state is None:
            new_replicas.append({"scope": s, "name": n, "rse_id": r, "bytes": size, "adler32": adler32, "md5": md5,
                                 "path": None, "state": ReplicaState.COPYING, "lock_cnt": 1, "tombstone": None,
                                 "accessed_at": None, "created_at": now, "updated_at": now})
        else:
            (recopy if state in _NEEDS_COPY else bump).append({"b_scope": s, "b_name": n, "b_rse": r})
        if lock_state is LockState.REPLICATING:
            (fresh if state is None else requests).append(transfers.NewRequest(
                scope=s, name=n, dest_rse_id=r, bytes=size, adler32=adler32, md5=md5, rule_id=rule.id,
                activity=rule.activity, priority=min(5, max(1, rule.priority)),
                source_rse_expression=rule.source_replica_expression))
    bulk.insert_rows(session, Lock.__table__, lock_rows)
    if new_replicas:
        bulk.insert_rows(session, Replica.__table__, new_replicas)
        per_rse: dict[int, list[int]] = {}
        for row in new_replicas:
            p = per_rse.setdefault(row["rse_id"], [0, 0])
            p[0] += 1
            p[1] += row["bytes"]
        for r, (files, nbytes) in per_rse.items():
            rses.add_catalog_usage(session, clock, r, files, nbytes)
    bump_replicas(session, now, bump, +1)
    bump_replicas(session, now, recopy, +1, state=ReplicaState.COPYING)
    if requests:
        transfers.queue_requests(session, clock, requests)
    if fresh:  # replicas this evaluation created: no request can be on its way yet
        transfers.queue_new_requests(session, clock, fresh)
    for r, (files, nbytes) in usage.items():
        accounting.add_account_usage(session, clock, rule.account, r, files, nbytes)
    outcome.locks_added += len(lock_rows)
    outcome.requests += len(requests) + len(fresh)


# -- counters ------------------------------------------------------------------------------


def refresh_counters(session: Session, clock: Clock, rule: Rule) -> None:
    """Recount the rule's locks by state and derive the rule's state from them. A count,
    not an increment, so two judges finishing the same transfer agree."""
    rows = session.execute(sa.select(Lock.state, sa.func.count(), sa.func.sum(Lock.bytes))
                           .where(Lock.rule_id == rule.id).group_by(Lock.state)).all()
    counts = {st: n for st, n, _b in rows}
    rule.bytes = sum(int(b or 0) for _st, _n, b in rows)
    rule.locks_ok_cnt = int(counts.get(LockState.OK, 0))
    rule.locks_replicating_cnt = int(counts.get(LockState.REPLICATING, 0))
    rule.locks_stuck_cnt = int(counts.get(LockState.STUCK, 0))
    if rule.state not in (RuleState.SUSPENDED, RuleState.INJECT):
        if rule.locks_stuck_cnt:
            if rule.state is not RuleState.STUCK:
                rule.stuck_at = clock.now()
            rule.state = RuleState.STUCK
        elif rule.locks_replicating_cnt:
            rule.state = RuleState.REPLICATING
        else:
            rule.state = RuleState.OK
            rule.error = None
            rule.stuck_at = None
    rule.updated_at = clock.now()
    session.flush()

