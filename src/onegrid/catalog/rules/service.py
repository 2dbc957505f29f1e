"""Rule operations: add (with its locks, at once), get, list, update, delete, analysis.

Each takes the caller's session (one transaction) and a clock; placement randomness comes
from an injected `random.Random`. Rucio's semantics: a rule is refused when it cannot be
met (no writable RSE, too few RSEs for the copies, the account's quota), removing a rule
releases its locks and gives replicas nobody holds a tombstone.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import dids as did_ops
from onegrid.catalog.rse_expression import validate as validate_expression
from onegrid.catalog.rules import evaluation, locking
from onegrid.catalog.rules.errors import DuplicateRule, RuleLocked, RuleNotFound
from onegrid.catalog.rules.tables import (
    ChangedDID,
    Grouping,
    Lock,
    LockState,
    Notification,
    Rule,
    RuleState,
)
from onegrid.catalog.tables import RSE, Content
from onegrid.clock import Clock
from onegrid.errors import InvalidInput
from onegrid.transfers import service as transfers

DEFAULT_ACTIVITY = "User Subscriptions"
_NOTIFY = {"Y": Notification.YES, "N": Notification.NO, "C": Notification.CLOSE, "P": Notification.PROGRESS}
UPDATABLE = {"lifetime", "locked", "comment", "activity", "priority", "source_replica_expression", "state",
             "account", "boost_rule", "cancel_requests", "purge_replicas", "meta", "child_rule_id", "eol_at"}


def _grouping(value: str | None) -> Grouping:
    try:
        return Grouping(str(value or "DATASET").upper())
    except ValueError:
        raise InvalidInput(f"grouping must be ALL, DATASET or NONE, not {value!r}") from None


def _notification(value: str | None) -> Notification:
    text = str(value or "N").upper()
    if text in _NOTIFY:
        return _NOTIFY[text]
    try:
        return Notification(text)
    except ValueError:
        raise InvalidInput(f"notify must be Y, N, C or P, not {value!r}") from None


def _copies(value: Any) -> int:
    try:
        copies = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"copies must be a positive integer, not {value!r}") from None
    if copies < 1:
        raise InvalidInput("copies must be at least 1")
    return copies


def add_rules(session: Session, clock: Clock, rng: random.Random, *, dids: Sequence[Mapping[str, Any]],
              account: str, copies: Any, rse_expression: str, grouping: str | None = None,
              weight: str | None = None, lifetime: int | None = None, locked: bool = False,
              source_replica_expression: str | None = None, activity: str | None = None,
              notify: str | None = None, purge_replicas: bool = False, ignore_availability: bool = False,
              ignore_account_limit: bool = False, comment: str | None = None, priority: int = 3,
              asynchronous: bool = False, meta: Any = None, subscription_id: str | None = None) -> list[str]:
    """One rule per DID; returns their ids. Unless `asynchronous`, the locks (and transfer
    requests) are made here, in the same transaction, with the quota checked."""
    if not dids:
        raise InvalidInput("a rule needs at least one DID")
    if not rse_expression:
        raise InvalidInput("a rule needs an RSE expression")
    validate_expression(rse_expression)
    n_copies = _copies(copies)
    group = _grouping(grouping)
    notification = _notification(notify)
    if lifetime is not None and int(lifetime) < 0:
        raise InvalidInput("lifetime must not be negative")
    if not 1 <= int(priority or 3) <= 5:
        raise InvalidInput("priority must be between 1 and 5")
    now = clock.now()
    ids = []
    for d in dids:
        scope, name = d.get("scope"), d.get("name")
        if not scope or not name:
            raise InvalidInput("each DID needs a scope and a name")
        did = did_ops.get_did(session, str(scope), str(name))
        dup = session.scalar(sa.select(Rule.id).where(Rule.scope == did.scope, Rule.name == did.name,
                                                      Rule.account == account, Rule.rse_expression == rse_expression))
        if dup is not None:
            raise DuplicateRule(f"a rule of {account} for {did.scope}:{did.name} on {rse_expression!r} already "
                                f"exists ({dup})")
        rule = Rule(id=uuid.uuid4().hex, scope=did.scope, name=did.name, did_type=did.did_type, account=account,
                    copies=n_copies, rse_expression=rse_expression, weight=weight or None, grouping=group,
                    locked=bool(locked), source_replica_expression=source_replica_expression or None,
                    activity=activity or DEFAULT_ACTIVITY, priority=int(priority or 3), notification=notification,
                    purge_replicas=bool(purge_replicas), ignore_availability=bool(ignore_availability),
                    ignore_account_limit=bool(ignore_account_limit), comment=comment, subscription_id=subscription_id,
                    meta=meta if isinstance(meta, dict) else None,
                    state=RuleState.INJECT if asynchronous else RuleState.REPLICATING,
                    locks_ok_cnt=0, locks_replicating_cnt=0, locks_stuck_cnt=0, bytes=0, eval_attempts=0,
                    expires_at=now + timedelta(seconds=int(lifetime)) if lifetime is not None else None,
                    created_at=now, updated_at=now)
        session.add(rule)
        session.flush()
        # Refuse the impossible now (also for an empty collection, or when the judge
        # makes the locks later).
        evaluation.candidates(session, rule)
        if not asynchronous:
            evaluation.evaluate_rule(session, clock, rule, rng, check_quota=True)
        ids.append(rule.id)
    return ids


def inject(session: Session, clock: Clock, rule: Rule, rng: random.Random) -> evaluation.Outcome:
    """Make the locks of a rule created asynchronously."""
    rule.state = RuleState.REPLICATING
    return evaluation.evaluate_rule(session, clock, rule, rng, check_quota=True)


# -- reading -------------------------------------------------------------------------------


def get_rule(session: Session, rule_id: str) -> Rule:
    rule = session.get(Rule, rule_id) if rule_id else None
    if rule is None:
        raise RuleNotFound(f"no rule with id {rule_id}")
    return rule


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def rule_to_dict(rule: Rule) -> dict[str, Any]:
    """The rule as Rucio's REST API returns it (the stock client prints these keys)."""
    return {
        "id": rule.id, "subscription_id": rule.subscription_id, "account": rule.account, "scope": rule.scope,
        "name": rule.name, "did_type": rule.did_type.value, "state": rule.state.value, "error": rule.error,
        "rse_expression": rule.rse_expression, "copies": rule.copies, "expires_at": _iso(rule.expires_at),
        "weight": rule.weight, "locked": rule.locked, "locks_ok_cnt": rule.locks_ok_cnt,
        "locks_replicating_cnt": rule.locks_replicating_cnt, "locks_stuck_cnt": rule.locks_stuck_cnt,
        "bytes": rule.bytes,
        "source_replica_expression": rule.source_replica_expression, "activity": rule.activity,
        "grouping": rule.grouping.value, "notification": rule.notification.value, "stuck_at": _iso(rule.stuck_at),
        "purge_replicas": rule.purge_replicas, "ignore_availability": rule.ignore_availability,
        "ignore_account_limit": rule.ignore_account_limit, "priority": rule.priority, "comments": rule.comment,
        "child_rule_id": None, "eol_at": None, "split_container": False, "meta": rule.meta,
        "next_evaluation_at": _iso(rule.eval_after), "evaluation_attempts": rule.eval_attempts,
        "created_at": _iso(rule.created_at), "updated_at": _iso(rule.updated_at),
    }


_FILTERS = {"scope": Rule.scope, "name": Rule.name, "account": Rule.account, "rse_expression": Rule.rse_expression,
            "activity": Rule.activity, "subscription_id": Rule.subscription_id, "id": Rule.id}


def list_rules(session: Session, filters: Mapping[str, Any] | None = None) -> Iterator[dict[str, Any]]:
    """Rules matching equality filters (scope, name, account, state, did_type, grouping, ...)."""
    query = sa.select(Rule).order_by(Rule.created_at, Rule.id)
    for key, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if key in _FILTERS:
            query = query.where(_FILTERS[key] == str(value))
        elif key == "state":
            query = query.where(Rule.state == _state(value))
        elif key == "did_type":
            query = query.where(Rule.did_type == did_ops.parse_type(value))
        elif key == "grouping":
            query = query.where(Rule.grouping == _grouping(value))
        elif key == "locked":
            query = query.where(Rule.locked.is_(str(value).lower() in ("true", "1")))
        elif key in ("created_before", "created_after"):
            when = datetime.fromisoformat(str(value))
            query = query.where(Rule.created_at < when if key == "created_before" else Rule.created_at > when)
        else:
            raise InvalidInput(f"unknown rule filter {key!r}")
    for rule in session.scalars(query.execution_options(yield_per=1000)):
        yield rule_to_dict(rule)


def rules_of_did(session: Session, scope: str, name: str) -> list[dict[str, Any]]:
    did_ops.get_did(session, scope, name)
    return list(list_rules(session, {"scope": scope, "name": name}))


def associated_rules(session: Session, scope: str, name: str) -> list[dict[str, Any]]:
    """Rules that hold locks on a file (whatever DID they were made on)."""
    ids = session.scalars(sa.select(Lock.rule_id).where(Lock.scope == scope, Lock.name == name).distinct())
    return [rule_to_dict(get_rule(session, i)) for i in sorted(ids)]


def list_locks(session: Session, rule_id: str) -> Iterator[dict[str, Any]]:
    get_rule(session, rule_id)
    query = (sa.select(Lock, RSE.name).join(RSE, RSE.id == Lock.rse_id).where(Lock.rule_id == rule_id)
             .order_by(Lock.scope, Lock.name, RSE.name))
    for lock, rse_name in session.execute(query.execution_options(yield_per=5000)):
        yield {"rule_id": lock.rule_id, "scope": lock.scope, "name": lock.name, "rse_id": str(lock.rse_id),
               "rse": rse_name, "account": lock.account, "state": lock.state.value, "bytes": lock.bytes,
               "error": lock.error, "created_at": _iso(lock.created_at), "updated_at": _iso(lock.updated_at)}


def examine(session: Session, rule_id: str) -> dict[str, Any]:
    """Why a rule is not OK: its error and, per stuck file, the last transfer's error."""
    rule = get_rule(session, rule_id)
    names = dict(session.execute(sa.select(RSE.id, RSE.name)).all())
    stuck = {(s, n, r): e for s, n, r, e in session.execute(
        sa.select(Lock.scope, Lock.name, Lock.rse_id, Lock.error).where(Lock.rule_id == rule_id,
                                                                        Lock.state == LockState.STUCK))}
    latest: dict[tuple[str, str, int], Any] = {}
    for req in transfers.requests_of_rule(session, rule_id):
        latest[(req.scope, req.name, req.dest_rse_id or 0)] = req
    out = []
    for (s, n, r), error in sorted(stuck.items()):
        req = latest.get((s, n, r))
        out.append({"scope": s, "name": n, "rse": names.get(r), "rse_id": str(r),
                    "attempts": req.attempts if req else 0,
                    "last_time": _iso(req.updated_at) if req else None,
                    "last_error": (req.last_error if req and req.last_error else error),
                    "last_source": names.get(req.source_rse_id) if req and req.source_rse_id else None,
                    "sources": []})
    if rule.state is RuleState.STUCK:
        text = f"STUCK: {rule.error}" if rule.error else "STUCK"
    else:
        text = rule.state.value
    return {"rule_error": text, "transfers": out}


# -- changing ------------------------------------------------------------------------------


def _state(value: Any) -> RuleState:
    try:
        return RuleState(str(value).upper())
    except ValueError:
        raise InvalidInput(f"unknown rule state {value!r}") from None


def update_rule(session: Session, clock: Clock, rule_id: str, options: Mapping[str, Any]) -> Rule:
    """Change what Rucio lets change: lifetime, locked, comment, activity, priority, source
    expression, owner, state (SUSPENDED / STUCK / back to evaluation), boost."""
    rule = get_rule(session, rule_id)
    unknown = set(options) - UPDATABLE
    if unknown:
        raise InvalidInput(f"rule option {sorted(unknown)[0]!r} cannot be updated "
                           f"(updatable: {', '.join(sorted(UPDATABLE))})")
    now = clock.now()
    for key, value in options.items():
        if key == "lifetime":
            rule.expires_at = None if value is None else now + timedelta(seconds=int(value))
        elif key == "locked":
            rule.locked = value if isinstance(value, bool) else str(value).lower() in ("true", "1")
        elif key == "comment":
            rule.comment = None if value is None else str(value)[:255]
        elif key == "activity":
            rule.activity = str(value)
        elif key == "priority":
            if not 1 <= int(value) <= 5:
                raise InvalidInput("priority must be between 1 and 5")
            rule.priority = int(value)
        elif key == "source_replica_expression":
            if value:
                validate_expression(str(value))
            rule.source_replica_expression = value or None
        elif key == "purge_replicas":
            rule.purge_replicas = bool(value)
        elif key == "meta":
            rule.meta = value if isinstance(value, dict) else None
        elif key == "account":
            _change_owner(session, clock, rule, str(value))
        elif key == "boost_rule" and value:
            rule.eval_after = now
        elif key == "state":
            _set_state(session, clock, rule, _state(value), bool(options.get("cancel_requests")))
    rule.updated_at = now
    session.flush()
    return rule


def _set_state(session: Session, clock: Clock, rule: Rule, state: RuleState, cancel: bool) -> None:
    if state is RuleState.SUSPENDED:
        rule.state = RuleState.SUSPENDED
    elif state is RuleState.STUCK:
        rule.state = RuleState.STUCK
        rule.stuck_at = clock.now()
        rule.eval_after = clock.now()
        if cancel:
            ids = [r.id for r in transfers.requests_of_rule(session, rule.id)]
            transfers.cancel_requests(session, ids, clock)
    elif state in (RuleState.REPLICATING, RuleState.OK):
        # Resume: recount, and let the judge look at it now.
        rule.state = RuleState.REPLICATING
        rule.eval_after = clock.now()
        evaluation.refresh_counters(session, clock, rule)
    else:
        raise InvalidInput(f"a rule cannot be set to {state.value}")


def _change_owner(session: Session, clock: Clock, rule: Rule, account: str) -> None:
    from onegrid.catalog import accounting
    from onegrid.iam.service import get_account

    get_account(session, account)
    usage = session.execute(sa.select(Lock.rse_id, sa.func.count(), sa.func.sum(Lock.bytes))
                            .where(Lock.rule_id == rule.id).group_by(Lock.rse_id)).all()
    for rse_id, files, nbytes in usage:
        accounting.add_account_usage(session, clock, rule.account, rse_id, -int(files), -int(nbytes or 0))
        accounting.add_account_usage(session, clock, account, rse_id, int(files), int(nbytes or 0))
    session.execute(sa.update(Lock).where(Lock.rule_id == rule.id).values(account=account))
    rule.account = account


def delete_rule(session: Session, clock: Clock, rule_id: str, *, purge_replicas: bool | None = None,
                ignore_locked: bool = False) -> int:
    """Remove a rule: its locks go, replicas nobody holds get a tombstone. Returns the
    number of locks released."""
    rule = get_rule(session, rule_id)
    if rule.locked and not ignore_locked:
        raise RuleLocked(f"rule {rule_id} is locked: unlock it first (update --locked false)")
    keys = [(s, n, r) for s, n, r in session.execute(sa.select(Lock.scope, Lock.name, Lock.rse_id)
                                                     .where(Lock.rule_id == rule_id))]
    # Transfers another rule still needs stay (requests are shared by file and
    # destination); release_locks cancels only those to replicas nobody holds.
    released = locking.release_locks(session, clock, rule, keys, purge=purge_replicas)
    session.delete(rule)
    session.flush()
    return released


# -- content changes -----------------------------------------------------------------------


def content_changed(session: Session, clock: Clock, scope: str, name: str) -> None:
    """Note that a collection's content changed: the judge re-evaluates its rules and those
    of its parents. Called by attach and detach in the same transaction."""
    session.add(ChangedDID(scope=scope, name=name, created_at=clock.now()))


def rules_above(session: Session, scope: str, name: str) -> list[str]:
    """Ids of the rules on a DID and on every collection above it."""
    seen = {(scope, name)}
    frontier = [(scope, name)]
    while frontier:
        s, n = frontier.pop()
        for ps, pn in session.execute(sa.select(Content.scope, Content.name).where(
                Content.child_scope == s, Content.child_name == n)):
            if (ps, pn) not in seen:
                seen.add((ps, pn))
                frontier.append((ps, pn))
    ids: list[str] = []
    for s, n in sorted(seen):
        ids.extend(session.scalars(sa.select(Rule.id).where(Rule.scope == s, Rule.name == n)))
    return ids
