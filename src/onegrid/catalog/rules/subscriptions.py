"""Subscriptions: a DID filter plus rule templates; new DIDs that match get the rules.

The filter is Rucio's dictionary (`scope`, `did_type`, `pattern` (a regular expression on
the name), `account`, and metadata keys with a value or a list of values), and may also
hold `expression`: a metadata filter as `onegrid did list --filter` takes it
(`datatype=RAW,run_number>=100`). Each template holds the arguments of a rule (`copies`,
`rse_expression`, `weight`, `lifetime`, `activity`, `grouping`, ...). A subscription keeps
a cursor over DIDs in creation order, so each new DID is looked at once.

The Belle II RAW policy from the seed is `raw_policy()`: one copy on the tier 0's tape,
and one on tape at one RAW data centre drawn by the centres' shares (an RSE attribute
used as the rule's weight).
"""

from __future__ import annotations

import json
import random
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import did_query, meta_filter
from onegrid.catalog.rules import service
from onegrid.catalog.rules.errors import DuplicateRule, SubscriptionDuplicate, SubscriptionNotFound
from onegrid.catalog.rules.tables import Rule, Subscription, SubscriptionState
from onegrid.catalog.tables import DID, DIDType
from onegrid.clock import Clock
from onegrid.errors import InvalidInput, OneGridError

TEMPLATE_KEYS = {"copies", "rse_expression", "weight", "lifetime", "activity", "grouping", "source_replica_expression",
                 "comment", "comments", "locked", "purge_replicas", "priority", "notify", "ignore_availability",
                 "asynchronous"}
FILTER_KEYS = {"scope", "did_type", "pattern", "account", "expression", "split_rule", "excluded_pattern"}


def raw_policy(tier0: str = "KEK-TAPE", centres: str = "raw_centre=True&istape=True",
               share_attribute: str = "raw_share") -> list[dict[str, Any]]:
    """Belle II's RAW replication: a copy at the tier 0 on tape, a second on tape at one
    RAW data centre chosen by shares (the RSE attribute `share_attribute`)."""
    return [
        {"copies": 1, "rse_expression": tier0, "activity": "T0 Tape", "grouping": "DATASET"},
        {"copies": 1, "rse_expression": f"({centres})\\{tier0}", "weight": share_attribute,
         "activity": "RAW Export", "grouping": "DATASET"},
    ]


def _check(filter_: Any, rules: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    if isinstance(filter_, str):
        filter_ = json.loads(filter_) if filter_.strip().startswith("{") else {"expression": filter_}
    if isinstance(rules, str):
        rules = json.loads(rules)
    if not isinstance(filter_, dict):
        raise InvalidInput("a subscription filter must be a JSON object")
    if not isinstance(rules, list) or not rules or not all(isinstance(r, dict) for r in rules):
        raise InvalidInput("a subscription needs a list of rule templates")
    for r in rules:
        unknown = set(r) - TEMPLATE_KEYS
        if unknown:
            raise InvalidInput(f"unknown rule template key {sorted(unknown)[0]!r}")
        if "rse_expression" not in r or "copies" not in r:
            raise InvalidInput("each rule template needs copies and rse_expression")
    if "expression" in filter_:
        meta_filter.parse_text(str(filter_["expression"]))
    if "pattern" in filter_:
        try:
            re.compile(str(filter_["pattern"]))
        except re.error as exc:
            raise InvalidInput(f"subscription pattern is not a regular expression: {exc}") from None
    return filter_, rules


def add_subscription(session: Session, clock: Clock, *, name: str, account: str, filter_: Any, rules: Any,
                     comments: str | None = None, lifetime: int | None = None, priority: int = 3,
                     retroactive: bool = False) -> str:
    filt, templates = _check(filter_, rules)
    if session.scalar(sa.select(Subscription.id).where(Subscription.account == account, Subscription.name == name)):
        raise SubscriptionDuplicate(f"subscription {name} of {account} already exists")
    now = clock.now()
    sub = Subscription(id=uuid.uuid4().hex, name=name, account=account, filter=filt, replication_rules=templates,
                       comments=comments, state=SubscriptionState.ACTIVE, priority=int(priority or 3),
                       retroactive=bool(retroactive),
                       # Not retroactive: only DIDs created from now on.
                       cursor_at=None if retroactive else now, cursor_scope="", cursor_name="",
                       expires_at=now + timedelta(days=int(lifetime)) if lifetime else None,
                       created_at=now, updated_at=now)
    session.add(sub)
    session.flush()
    return sub.id


def _get(session: Session, account: str, name: str) -> Subscription:
    sub = session.scalars(sa.select(Subscription).where(Subscription.account == account,
                                                        Subscription.name == name)).first()
    if sub is None:
        raise SubscriptionNotFound(f"no subscription {name} of {account}")
    return sub


def update_subscription(session: Session, clock: Clock, account: str, name: str, options: Mapping[str, Any]) -> None:
    sub = _get(session, account, name)
    if options.get("filter") is not None or options.get("replication_rules") is not None:
        filt, templates = _check(options.get("filter") or sub.filter,
                                 options.get("replication_rules") or sub.replication_rules)
        sub.filter, sub.replication_rules = filt, templates
    if options.get("comments") is not None:
        sub.comments = str(options["comments"])
    if options.get("priority") is not None:
        sub.priority = int(options["priority"])
    if options.get("lifetime"):
        sub.expires_at = clock.now() + timedelta(days=int(options["lifetime"]))
    if options.get("state"):
        text = str(options["state"]).upper()
        sub.state = SubscriptionState.INACTIVE if text in ("I", "INACTIVE") else SubscriptionState.ACTIVE
    sub.updated_at = clock.now()


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def to_dict(sub: Subscription) -> dict[str, Any]:
    """As Rucio answers: filter and rules as JSON text."""
    return {"id": sub.id, "name": sub.name, "account": sub.account, "filter": json.dumps(sub.filter),
            "replication_rules": json.dumps(sub.replication_rules), "policyid": sub.priority,
            "state": sub.state.value, "comments": sub.comments, "retroactive": sub.retroactive,
            "lifetime": _iso(sub.expires_at), "expired_at": _iso(sub.expires_at),
            "last_processed": _iso(sub.cursor_at), "created_at": _iso(sub.created_at),
            "updated_at": _iso(sub.updated_at)}


def list_subscriptions(session: Session, account: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
    query = sa.select(Subscription).order_by(Subscription.account, Subscription.name)
    if account:
        query = query.where(Subscription.account == account)
    if name:
        query = query.where(Subscription.name == name)
    out = [to_dict(s) for s in session.scalars(query)]
    if (account or name) and not out:
        raise SubscriptionNotFound(f"no subscription {name or ''} of {account or 'any account'}".replace("  ", " "))
    return out


def rules_of(session: Session, account: str, name: str) -> list[dict[str, Any]]:
    sub = _get(session, account, name)
    return list(service.list_rules(session, {"subscription_id": sub.id}))


# -- applying ------------------------------------------------------------------------------


def _filter_clause(filt: Mapping[str, Any]) -> sa.ColumnElement[bool]:
    parts: list[sa.ColumnElement[bool]] = []
    types = filt.get("did_type") or ["DATASET", "CONTAINER"]
    types = [types] if isinstance(types, str) else types
    parts.append(DID.did_type.in_([DIDType(str(t).upper()) for t in types]))
    for key, column in (("scope", DID.scope), ("account", DID.account)):
        if filt.get(key):
            values = filt[key] if isinstance(filt[key], list) else [filt[key]]
            parts.append(column.in_([str(v) for v in values]))
    if filt.get("expression"):
        parts.append(did_query.compile_filter(meta_filter.parse_text(str(filt["expression"]))))
    for key, value in filt.items():
        if key in FILTER_KEYS:
            continue
        values = value if isinstance(value, list) else [value]
        if values:
            parts.append(sa.or_(*(did_query.compile_filter([[meta_filter.Condition(key, "eq", str(v))]])
                                  for v in values)))
    return sa.and_(*parts)


def _matches_names(filt: Mapping[str, Any], name: str) -> bool:
    if filt.get("pattern") and not re.search(str(filt["pattern"]), name):
        return False
    return not (filt.get("excluded_pattern") and re.search(str(filt["excluded_pattern"]), name))


def apply_subscription(session: Session, clock: Clock, rng: random.Random, sub: Subscription,
                       limit: int) -> tuple[int, int]:
    """Give the DIDs created since the cursor that match the filter their rules (up to
    `limit` DIDs). Returns (DIDs looked at, rules made)."""
    now = clock.now()
    if sub.expires_at is not None and sub.expires_at < now:
        sub.state = SubscriptionState.INACTIVE
        return 0, 0
    query = sa.select(DID.scope, DID.name, DID.created_at).where(_filter_clause(sub.filter), DID.created_at <= now)
    if sub.cursor_at is not None:
        c_at, c_scope, c_name = sub.cursor_at, sub.cursor_scope or "", sub.cursor_name or ""
        query = query.where(sa.or_(DID.created_at > c_at, sa.and_(DID.created_at == c_at, sa.or_(
            DID.scope > c_scope, sa.and_(DID.scope == c_scope, DID.name > c_name)))))
    rows = session.execute(query.order_by(DID.created_at, DID.scope, DID.name).limit(limit)).all()
    made = 0
    for scope, name, created in rows:
        if _matches_names(sub.filter, name):
            made += _rules_for(session, clock, rng, sub, scope, name)
        sub.cursor_at, sub.cursor_scope, sub.cursor_name = created, scope, name
    sub.updated_at = now
    session.flush()
    return len(rows), made


def _rules_for(session: Session, clock: Clock, rng: random.Random, sub: Subscription, scope: str, name: str) -> int:
    made = 0
    for template in sub.replication_rules:
        t = dict(template)
        if "comments" in t:
            t["comment"] = t.pop("comments")
        exists = session.scalar(sa.select(Rule.id).where(Rule.scope == scope, Rule.name == name,
                                                        Rule.subscription_id == sub.id,
                                                        Rule.rse_expression == t["rse_expression"]))
        if exists:
            continue
        try:
            with session.begin_nested():
                service.add_rules(session, clock, rng, dids=[{"scope": scope, "name": name}], account=sub.account,
                                  subscription_id=sub.id, **t)
            made += 1
        except DuplicateRule:
            continue
        except OneGridError as exc:
            # One impossible template must not stop the others; the subscription says why.
            sub.comments = f"{scope}:{name}: {exc.message}"[:4000]
    return made


def active_ids(session: Session) -> Sequence[str]:
    return list(session.scalars(sa.select(Subscription.id).where(Subscription.state == SubscriptionState.ACTIVE)))
