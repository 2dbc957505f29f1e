"""Tables of the rules engine: rules, their per-file locks and per-dataset choices,
DIDs whose content changed (the judge's queue), and subscriptions.

A lock is one file of one rule on one RSE; `replicas.lock_cnt` counts the locks on a
replica, so the reaper deletes only replicas nobody holds. Rules carry lease columns
(`onegrid.db.lease`) so several judges share work.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.catalog.tables import ACCOUNT, JSON, NAME, SCOPE, DIDType
from onegrid.db.base import Base, UtcDateTime

RULE_ID = sa.String(32)  # uuid4 hex, as Rucio's rule ids


def _enum(cls: type[enum.Enum], length: int = 16) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=length)


class RuleState(enum.StrEnum):
    OK = "OK"
    REPLICATING = "REPLICATING"
    STUCK = "STUCK"
    SUSPENDED = "SUSPENDED"
    INJECT = "INJECT"  # created asynchronously: the judge makes its locks


class LockState(enum.StrEnum):
    OK = "OK"
    REPLICATING = "REPLICATING"
    STUCK = "STUCK"


class Grouping(enum.StrEnum):
    ALL = "ALL"
    DATASET = "DATASET"
    NONE = "NONE"


class Notification(enum.StrEnum):
    YES = "YES"
    NO = "NO"
    CLOSE = "CLOSE"
    PROGRESS = "PROGRESS"


class SubscriptionState(enum.StrEnum):
    ACTIVE = "ACTIVE"
    INACTIVE = "INACTIVE"
    BROKEN = "BROKEN"


class Rule(Base):
    __tablename__ = "rules"
    __table_args__ = (
        sa.Index("ix_rules_scope_name", "scope", "name"),
        sa.Index("ix_rules_state_eval", "state", "eval_after"),
        sa.Index("ix_rules_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(RULE_ID, primary_key=True)
    scope: Mapped[str] = mapped_column(SCOPE)
    name: Mapped[str] = mapped_column(NAME)
    did_type: Mapped[DIDType] = mapped_column(_enum(DIDType))
    account: Mapped[str] = mapped_column(ACCOUNT, index=True)
    copies: Mapped[int] = mapped_column(sa.Integer)
    rse_expression: Mapped[str] = mapped_column(sa.String(3000))
    weight: Mapped[str | None] = mapped_column(sa.String(255))
    grouping: Mapped[Grouping] = mapped_column(_enum(Grouping, 8))
    locked: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    source_replica_expression: Mapped[str | None] = mapped_column(sa.String(255))
    activity: Mapped[str] = mapped_column(sa.String(64))
    priority: Mapped[int] = mapped_column(sa.Integer, default=3)
    notification: Mapped[Notification] = mapped_column(_enum(Notification, 8))
    purge_replicas: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    ignore_availability: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    ignore_account_limit: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    comment: Mapped[str | None] = mapped_column(sa.String(255))
    subscription_id: Mapped[str | None] = mapped_column(RULE_ID, index=True)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    state: Mapped[RuleState] = mapped_column(_enum(RuleState))
    locks_ok_cnt: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    locks_replicating_cnt: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    locks_stuck_cnt: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)  # held by the rule's locks
    error: Mapped[str | None] = mapped_column(sa.String(1024))
    stuck_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the judge looks at the rule again (STUCK backoff), and how often it has.
    eval_after: Mapped[datetime | None] = mapped_column(UtcDateTime)
    eval_attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Lock(Base):
    """One file of one rule on one RSE."""

    __tablename__ = "rule_locks"
    __table_args__ = (
        sa.Index("ix_rule_locks_replica", "scope", "name", "rse_id"),
        sa.Index("ix_rule_locks_rule_state", "rule_id", "state"),
    )

    rule_id: Mapped[str] = mapped_column(sa.ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    rse_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    account: Mapped[str] = mapped_column(ACCOUNT)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    state: Mapped[LockState] = mapped_column(_enum(LockState))
    error: Mapped[str | None] = mapped_column(sa.String(1024))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DatasetLock(Base):
    """Which RSEs a rule chose for a dataset (grouping DATASET or ALL), so files attached
    later follow their siblings."""

    __tablename__ = "rule_dataset_locks"

    rule_id: Mapped[str] = mapped_column(sa.ForeignKey("rules.id", ondelete="CASCADE"), primary_key=True)
    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    rse_id: Mapped[int] = mapped_column(sa.Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChangedDID(Base):
    """A collection whose content changed (attach/detach): the judge re-evaluates the rules
    on it and on its parents."""

    __tablename__ = "rule_changed_dids"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                                    autoincrement=True)
    scope: Mapped[str] = mapped_column(SCOPE)
    name: Mapped[str] = mapped_column(NAME)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Subscription(Base):
    """A metadata filter plus rule templates: new DIDs that match get the rules."""

    __tablename__ = "subscriptions"
    __table_args__ = (sa.UniqueConstraint("account", "name", name="uq_subscriptions_account"),)

    id: Mapped[str] = mapped_column(RULE_ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    account: Mapped[str] = mapped_column(ACCOUNT)
    filter: Mapped[dict[str, Any]] = mapped_column(JSON)
    replication_rules: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    comments: Mapped[str | None] = mapped_column(sa.String(4000))
    state: Mapped[SubscriptionState] = mapped_column(_enum(SubscriptionState, 8))
    priority: Mapped[int] = mapped_column(sa.Integer, default=3)
    retroactive: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    # The last DID applied (created_at, scope, name): new DIDs are those after it.
    cursor_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    cursor_scope: Mapped[str | None] = mapped_column(SCOPE)
    cursor_name: Mapped[str | None] = mapped_column(NAME)
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(64))
    lease_expires: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
