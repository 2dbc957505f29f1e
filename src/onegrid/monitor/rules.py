"""Replication-rule figures: rules per state, and the stuck ones with their reason.

A rule is listed as stuck when the judge marked it STUCK (its error, else the error of one
of its stuck locks, says why) or when it has been REPLICATING for longer than the
`stuck_rule_hours` setting (no error yet: it is just slow). Empty until the rules tables exist.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import Enum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.monitor.sources import RULE_LOCKS, RULES

STUCK, REPLICATING = "STUCK", "REPLICATING"


def _text(value: Any) -> str:
    return str(value.value if isinstance(value, Enum) else value)


def rules_by_state(session: Session) -> dict[str, int]:
    if RULES is None:
        return {}
    r = RULES.c
    return {_text(s): n for s, n in session.execute(sa.select(r.state, sa.func.count()).group_by(r.state))}


def stuck_rules(session: Session, *, now: datetime, slow_after_hours: float, limit: int) -> list[dict[str, Any]]:
    if RULES is None:
        return []
    r = RULES.c
    reason: sa.ColumnElement[Any] = r.error
    if RULE_LOCKS is not None:
        lk = RULE_LOCKS.c
        lock_error = (sa.select(lk.error).where(lk.rule_id == r.id, lk.state == STUCK, lk.error.is_not(None))
                      .limit(1).scalar_subquery())
        reason = sa.func.coalesce(r.error, lock_error)
    slow_since = now - timedelta(hours=slow_after_hours)
    q = (sa.select(r.id, r.scope, r.name, r.account, r.rse_expression, r.activity, r.state, r.locks_ok_cnt,
                   r.locks_replicating_cnt, r.locks_stuck_cnt, r.stuck_at, r.created_at, reason.label("reason"))
         .where(sa.or_(r.state == STUCK, sa.and_(r.state == REPLICATING, r.created_at < slow_since)))
         .order_by(sa.func.coalesce(r.stuck_at, r.created_at).desc())
         .limit(limit))
    out = []
    for row in session.execute(q):
        state = _text(row.state)
        why = row.reason or ("" if state == STUCK else
                             f"replicating for {(now - row.created_at).total_seconds() / 3600:.1f} h")
        out.append({"rule_id": row.id, "did": f"{row.scope}:{row.name}", "account": row.account,
                    "rse_expression": row.rse_expression, "activity": row.activity, "state": state,
                    "locks_ok": row.locks_ok_cnt, "locks_replicating": row.locks_replicating_cnt,
                    "locks_stuck": row.locks_stuck_cnt, "reason": why or "stuck (no reason recorded)",
                    "since": (row.stuck_at or row.created_at).isoformat()})
    return out
