"""The judge's steps, each a bounded batch in its own transactions:

- `inject`: rules created asynchronously get their locks;
- `follow_content`: collections whose content changed (attach/detach) have the rules on
  them and above them re-evaluated: new files get locks and transfers, detached files
  lose theirs;
- `finish`: terminal transfer requests become lock states (OK, or STUCK with the reason),
  rule counters and states follow;
- `repair`: STUCK rules are retried once their backoff has passed;
- `expire`: rules past their lifetime are removed (the issue gives this to the watchdog;
  the judge does it in its cycle, with the same code);
- `subscribe`: subscriptions give matching new DIDs their rules.

Rows are claimed with leases (`onegrid.db.lease`), so several judges share the work;
counters are recounted rather than incremented, so a request seen twice does no harm.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from onegrid.catalog import bulk, rses
from onegrid.catalog import dids as did_ops
from onegrid.catalog.rules import evaluation, service, subscriptions
from onegrid.catalog.rules.settings import RuleSettings
from onegrid.catalog.rules.tables import (
    ChangedDID,
    Lock,
    LockState,
    Rule,
    RuleState,
    Subscription,
    SubscriptionState,
)
from onegrid.catalog.tables import Replica, ReplicaState
from onegrid.clock import Clock
from onegrid.db import lease
from onegrid.errors import OneGridError
from onegrid.runtime import Runtime
from onegrid.transfers import service as transfers
from onegrid.transfers.tables import RequestState

log = logging.getLogger("onegrid.judge")
_RETRIES = 3  # attempts of one rule's transaction after a concurrent-write conflict


def backoff(settings: RuleSettings, attempts: int) -> timedelta:
    return timedelta(seconds=min(settings.stuck_backoff_max, settings.stuck_backoff_base * 2 ** min(attempts, 30)))


def _claim_rules(runtime: Runtime, worker: str, settings: RuleSettings, where: sa.ColumnElement[bool],
                 order: list[Any]) -> list[str]:
    t = Rule.__table__
    with runtime.transaction() as s:
        return lease.claim(s, t, key=t.c.id, owner_col=t.c.lease_owner, expires_col=t.c.lease_expires, where=where,
                           order_by=order, limit=settings.rule_batch, owner=worker, now=runtime.clock.now(),
                           lease_seconds=settings.lease_seconds)


def _each_rule(runtime: Runtime, worker: str, ids: list[str], work: Callable[[Session, Rule], None]) -> int:
    """Run `work` on each claimed rule in its own transaction; a rule that cannot be met
    becomes STUCK with the reason instead of stopping the batch."""
    done = 0
    for rule_id in ids:
        for attempt in range(_RETRIES):
            try:
                with runtime.transaction() as s:
                    rule = s.get(Rule, rule_id)
                    if rule is None:
                        break
                    work(s, rule)
                    if rule.lease_owner == worker:  # never free a rule another judge holds
                        rule.lease_owner = rule.lease_expires = None
                done += 1
                break
            except OneGridError as exc:
                _mark_stuck(runtime, worker, rule_id, exc.message)
                break
            except (IntegrityError, OperationalError) as exc:
                # Another judge made the same row at the same moment (the first usage
                # counter of an RSE, a lock of a rule evaluated twice), or a deadlock:
                # the transaction rolled back whole, so doing it again is safe.
                log.info("rule %s: retrying after a concurrent write (%s)", rule_id, exc.orig)
                if attempt == _RETRIES - 1:
                    log.warning("rule %s left for a later cycle: %s", rule_id, exc.orig)
    return done


def _mark_stuck(runtime: Runtime, worker: str, rule_id: str, reason: str,
                settings: RuleSettings | None = None) -> None:
    settings = settings or RuleSettings()
    with runtime.transaction() as s:
        rule = s.get(Rule, rule_id)
        if rule is None:
            return
        now = runtime.clock.now()
        if rule.state is not RuleState.STUCK:
            rule.stuck_at = now
        rule.state, rule.error = RuleState.STUCK, reason[:1024]
        rule.eval_after = now + backoff(settings, rule.eval_attempts)
        if rule.lease_owner == worker:
            rule.lease_owner = rule.lease_expires = None
        rule.updated_at = now
    log.warning("rule %s is stuck: %s", rule_id, reason)


def inject(runtime: Runtime, worker: str, settings: RuleSettings, rng: random.Random) -> int:
    ids = _claim_rules(runtime, worker, settings, Rule.state == RuleState.INJECT, [Rule.created_at])
    return _each_rule(runtime, worker, ids, lambda s, r: service.inject(s, runtime.clock, r, rng) and None)


def follow_content(runtime: Runtime, worker: str, settings: RuleSettings, rng: random.Random) -> int:
    """Re-evaluate the rules on (and above) collections whose content changed."""
    t = ChangedDID.__table__
    clock = runtime.clock
    with runtime.transaction() as s:
        ids = lease.claim(s, t, key=t.c.id, owner_col=t.c.lease_owner, expires_col=t.c.lease_expires, where=None,
                          order_by=[t.c.id], limit=settings.changed_did_batch, owner=worker, now=clock.now(),
                          lease_seconds=settings.lease_seconds)
        changed = sorted({(sc, n) for sc, n in s.execute(sa.select(t.c.scope, t.c.name).where(t.c.id.in_(ids)))})
        rule_ids = sorted({r for sc, n in changed for r in service.rules_above(s, sc, n)})
    evaluated = _each_rule(runtime, worker, rule_ids, lambda s, r: _reevaluate(s, clock, r, rng))
    with runtime.transaction() as s:
        s.execute(sa.delete(t).where(t.c.id.in_(ids), t.c.lease_owner == worker))
    return evaluated


def _reevaluate(session: Session, clock: Clock, rule: Rule, rng: random.Random) -> None:
    if rule.state in (RuleState.SUSPENDED, RuleState.INJECT):
        return
    evaluation.evaluate_rule(session, clock, rule, rng, check_quota=True)


# -- finisher ------------------------------------------------------------------------------


def finish(runtime: Runtime, settings: RuleSettings) -> int:
    """Terminal transfer requests → lock states → rule counters and states."""
    clock = runtime.clock
    with runtime.transaction() as s:
        done = transfers.finished_requests(s, settings.finished_batch)
        if not done:
            return 0
        now = clock.now()
        names = rses_by_id(s)
        ok = [{"b_scope": r.scope, "b_name": r.name, "b_rse": r.dest_rse_id} for r in done
              if r.state is RequestState.DONE]
        failed = [r for r in done if r.state is not RequestState.DONE]
        lt = Lock.__table__
        where = sa.and_(lt.c.scope == sa.bindparam("b_scope"), lt.c.name == sa.bindparam("b_name"),
                        lt.c.rse_id == sa.bindparam("b_rse"))
        if ok:
            s.execute(sa.update(lt).where(where, lt.c.state != LockState.OK)
                      .values(state=LockState.OK, error=None, updated_at=now), ok)
        reasons: dict[str, str] = {}
        if failed:
            params = [{"b_scope": r.scope, "b_name": r.name, "b_rse": r.dest_rse_id,
                       "b_error": _reason(r.state, r.last_error)[:1024]} for r in failed]
            s.execute(sa.update(lt).where(where, lt.c.state == LockState.REPLICATING)
                      .values(state=LockState.STUCK, error=sa.bindparam("b_error"), updated_at=now), params)
            for r in failed:
                rule_ids = s.scalars(sa.select(Lock.rule_id).where(Lock.scope == r.scope, Lock.name == r.name,
                                                                   Lock.rse_id == r.dest_rse_id))
                for rule_id in rule_ids:
                    reasons.setdefault(rule_id, f"{r.scope}:{r.name} to {names.get(r.dest_rse_id or 0)}: "
                                                f"{_reason(r.state, r.last_error)}")
        affected = set(reasons) | _rules_of(s, [(r.scope, r.name, r.dest_rse_id or 0) for r in done
                                                if r.state is RequestState.DONE])
        for rule_id in sorted(affected):
            rule = s.get(Rule, rule_id)
            if rule is None:
                continue
            evaluation.refresh_counters(s, clock, rule)
            if rule.state is RuleState.STUCK and rule_id in reasons:
                rule.error = reasons[rule_id][:1024]
                rule.eval_after = now + backoff(settings, rule.eval_attempts)
        transfers.mark_notified(s, [r.id for r in done])
    return len(done)


def _reason(state: RequestState, error: str | None) -> str:
    if state is RequestState.CANCELLED:
        return "transfer cancelled"
    return error or "transfer failed"


def _rules_of(session: Session, keys: list[tuple[str, str, int]]) -> set[str]:
    out: set[str] = set()
    by_rse: dict[int, list[str]] = {}
    for _s, n, r in keys:
        by_rse.setdefault(r, []).append(n)
    for r, names in by_rse.items():
        for part in did_ops.chunks(sorted(set(names))):
            query = sa.select(Lock.rule_id).where(Lock.rse_id == r).distinct()
            out.update(session.scalars(bulk.where_in(session, query, Lock.name, part)))
    return out


def rses_by_id(session: Session) -> dict[int, str]:
    from onegrid.catalog.tables import RSE

    return dict(session.execute(sa.select(RSE.id, RSE.name)).all())


# -- repair, expiry, subscriptions ---------------------------------------------------------


def repair(runtime: Runtime, worker: str, settings: RuleSettings, rng: random.Random) -> int:
    """Retry STUCK rules whose backoff has passed: their stuck locks get new transfers (or
    become OK if the file arrived meanwhile), and the rule is re-evaluated."""
    now = runtime.clock.now()
    due = sa.and_(Rule.state == RuleState.STUCK, sa.or_(Rule.eval_after.is_(None), Rule.eval_after <= now))
    ids = _claim_rules(runtime, worker, settings, due, [Rule.eval_after])

    def work(s: Session, rule: Rule) -> None:
        rule.eval_attempts += 1
        rule.eval_after = runtime.clock.now() + backoff(settings, rule.eval_attempts)
        retry_stuck_locks(s, runtime.clock, rule)
        evaluation.evaluate_rule(s, runtime.clock, rule, rng, check_quota=True)

    return _each_rule(runtime, worker, ids, work)


def retry_stuck_locks(session: Session, clock: Clock, rule: Rule) -> int:
    now = clock.now()
    stuck = session.execute(sa.select(Lock.scope, Lock.name, Lock.rse_id, Lock.bytes).where(
        Lock.rule_id == rule.id, Lock.state == LockState.STUCK)).all()
    requests = []
    for s, n, r, size in stuck:
        rep = session.get(Replica, (s, n, r))
        if rep is not None and rep.state is ReplicaState.AVAILABLE:
            state = LockState.OK
        elif rep is not None and rep.state is ReplicaState.BEING_DELETED:
            continue
        else:
            state = LockState.REPLICATING
            if rep is None:
                holders = session.scalar(sa.select(sa.func.count()).select_from(Lock).where(
                    Lock.scope == s, Lock.name == n, Lock.rse_id == r)) or 1
                did = did_ops.get_did(session, s, n)
                session.add(Replica(scope=s, name=n, rse_id=r, bytes=size, adler32=did.adler32, md5=did.md5,
                                    state=ReplicaState.COPYING, lock_cnt=holders, created_at=now, updated_at=now))
                rses.add_catalog_usage(session, clock, r, 1, size)
            else:
                rep.state, rep.updated_at, rep.tombstone = ReplicaState.COPYING, now, None
            did = did_ops.get_did(session, s, n)
            requests.append(transfers.NewRequest(
                scope=s, name=n, dest_rse_id=r, bytes=size, adler32=did.adler32, md5=did.md5, rule_id=rule.id,
                activity=rule.activity, priority=min(5, max(1, rule.priority)),
                source_rse_expression=rule.source_replica_expression))
        session.execute(sa.update(Lock).where(Lock.rule_id == rule.id, Lock.scope == s, Lock.name == n,
                                              Lock.rse_id == r).values(state=state, error=None, updated_at=now))
    if requests:
        transfers.queue_requests(session, clock, requests)
    session.flush()
    return len(stuck)


def expire(runtime: Runtime, worker: str, settings: RuleSettings) -> int:
    now = runtime.clock.now()
    due = sa.and_(Rule.expires_at.is_not(None), Rule.expires_at < now, Rule.locked.is_(False))
    ids = _claim_rules(runtime, worker, settings, due, [Rule.expires_at])
    return _each_rule(runtime, worker, ids, lambda s, r: service.delete_rule(s, runtime.clock, r.id) and None)


def subscribe(runtime: Runtime, worker: str, settings: RuleSettings, rng: random.Random) -> int:
    t = Subscription.__table__
    with runtime.transaction() as s:
        ids = lease.claim(s, t, key=t.c.id, owner_col=t.c.lease_owner, expires_col=t.c.lease_expires,
                          where=t.c.state == SubscriptionState.ACTIVE, order_by=[t.c.priority, t.c.id],
                          limit=settings.rule_batch, owner=worker, now=runtime.clock.now(),
                          lease_seconds=settings.lease_seconds)
    made = 0
    for sub_id in ids:
        with runtime.transaction() as s:
            sub = s.get(Subscription, sub_id)
            if sub is None:
                continue
            _seen, rules = subscriptions.apply_subscription(s, runtime.clock, rng, sub, settings.subscription_batch)
            made += rules
            sub.lease_owner = sub.lease_expires = None
    return made
