"""Tables of onegrid.catalog: scopes, DIDs and their metadata, contents, RSEs, replicas,
account limits and usage, traces.

DIDs are keyed by `(scope, name)` as in Rucio, so replicas, contents and (later)
replication rules and locks reference a file without a lookup. RSEs have a small integer
id so that the hundreds of millions of replica rows stay narrow.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime

NAME = sa.String(255)
SCOPE = sa.String(64)
ACCOUNT = sa.String(64)
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _enum(cls: type[enum.Enum], length: int = 24) -> sa.Enum:
    return sa.Enum(cls, native_enum=False, length=length)


class DIDType(enum.StrEnum):
    FILE = "FILE"
    DATASET = "DATASET"
    CONTAINER = "CONTAINER"


class RSEType(enum.StrEnum):
    DISK = "DISK"
    TAPE = "TAPE"


class ReplicaState(enum.StrEnum):
    AVAILABLE = "AVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"
    COPYING = "COPYING"
    BEING_DELETED = "BEING_DELETED"
    BAD = "BAD"
    TEMPORARY_UNAVAILABLE = "TEMPORARY_UNAVAILABLE"


class BadReplicaState(enum.StrEnum):
    BAD = "BAD"
    SUSPICIOUS = "SUSPICIOUS"
    RECOVERED = "RECOVERED"
    LOST = "LOST"


# The typed, indexed metadata columns: what experiments query most (AMGA's attributes for
# Belle II). Everything else goes to `dids.meta` (JSON). name -> python type.
TYPED_META: dict[str, type] = {
    "datatype": str,
    "project": str,
    "run_number": int,
    "stream_name": str,
    "version": str,
    "campaign": str,
    "events": int,
    "prod_step": str,
    "experiment": int,
    "provenance": str,
    "phys_group": str,
    "task_id": int,
}


class Scope(Base):
    __tablename__ = "scopes"

    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name"), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class DID(Base):
    """A file, dataset or container. Files carry size and checksums; collections carry
    their aggregate size (`bytes`, `length`) and whether they are still open."""

    __tablename__ = "dids"
    __table_args__ = (
        sa.Index("ix_dids_datatype_run", "datatype", "run_number"),
        sa.Index("ix_dids_project_run", "project", "run_number"),
        sa.Index("ix_dids_run_number", "run_number"),
        sa.Index("ix_dids_campaign", "campaign"),
        sa.Index("ix_dids_stream_name", "stream_name"),
        sa.Index("ix_dids_events", "events"),
        sa.Index("ix_dids_expired_at", "expired_at"),
        sa.Index("ix_dids_guid", "guid"),
        sa.Index("ix_dids_scope_type", "scope", "did_type"),
    )

    scope: Mapped[str] = mapped_column(sa.ForeignKey("scopes.scope"), primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    did_type: Mapped[DIDType] = mapped_column(_enum(DIDType, 16))
    account: Mapped[str] = mapped_column(ACCOUNT)
    is_open: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    monotonic: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    suppressed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    length: Mapped[int | None] = mapped_column(sa.BigInteger)
    adler32: Mapped[str | None] = mapped_column(sa.String(8))
    md5: Mapped[str | None] = mapped_column(sa.String(32))
    guid: Mapped[str | None] = mapped_column(sa.String(36))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    expired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # typed metadata (see TYPED_META)
    datatype: Mapped[str | None] = mapped_column(sa.String(64))
    project: Mapped[str | None] = mapped_column(sa.String(64))
    run_number: Mapped[int | None] = mapped_column(sa.BigInteger)
    stream_name: Mapped[str | None] = mapped_column(sa.String(64))
    version: Mapped[str | None] = mapped_column(sa.String(64))
    campaign: Mapped[str | None] = mapped_column(sa.String(64))
    events: Mapped[int | None] = mapped_column(sa.BigInteger)
    prod_step: Mapped[str | None] = mapped_column(sa.String(64))
    experiment: Mapped[int | None] = mapped_column(sa.Integer)
    provenance: Mapped[str | None] = mapped_column(sa.String(64))
    phys_group: Mapped[str | None] = mapped_column(sa.String(64))
    task_id: Mapped[int | None] = mapped_column(sa.BigInteger)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class Content(Base):
    """An attachment: a dataset holds files, a container holds datasets or containers."""

    __tablename__ = "contents"
    __table_args__ = (
        sa.ForeignKeyConstraint(["scope", "name"], ["dids.scope", "dids.name"],
                                name="fk_contents_parent_dids", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["child_scope", "child_name"], ["dids.scope", "dids.name"],
                                name="fk_contents_child_dids", ondelete="CASCADE"),
        sa.Index("ix_contents_child", "child_scope", "child_name"),
    )

    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    child_scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    child_name: Mapped[str] = mapped_column(NAME, primary_key=True)
    child_type: Mapped[DIDType] = mapped_column(_enum(DIDType, 16))
    bytes: Mapped[int | None] = mapped_column(sa.BigInteger)
    adler32: Mapped[str | None] = mapped_column(sa.String(8))
    md5: Mapped[str | None] = mapped_column(sa.String(32))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RSE(Base):
    __tablename__ = "rses"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(sa.String(64), unique=True)
    rse_type: Mapped[RSEType] = mapped_column(_enum(RSEType, 8), default=RSEType.DISK)
    deterministic: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    volatile: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    staging_area: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    availability_read: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    availability_write: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    availability_delete: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    country_name: Mapped[str | None] = mapped_column(sa.String(64))
    city: Mapped[str | None] = mapped_column(sa.String(64))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class RSEAttribute(Base):
    """`key=value` facts about an RSE (site, country, tier, istape, lfn2pfn_algorithm ...);
    values keep their JSON type so `tier<2` compares numbers."""

    __tablename__ = "rse_attributes"
    __table_args__ = (sa.Index("ix_rse_attributes_key", "key"),)

    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    key: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)


class RSEProtocol(Base):
    """How to reach an RSE: scheme://hostname:port/prefix, with a priority per operation
    (0 = not used for it; 1 = first choice) on the LAN and on the WAN."""

    __tablename__ = "rse_protocols"
    __table_args__ = (sa.UniqueConstraint("rse_id", "scheme", "hostname", "port", name="uq_rse_protocols_rse_id"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), index=True)
    scheme: Mapped[str] = mapped_column(sa.String(32))
    hostname: Mapped[str] = mapped_column(sa.String(255))
    port: Mapped[int] = mapped_column(sa.Integer)
    prefix: Mapped[str] = mapped_column(sa.String(1024), default="")
    impl: Mapped[str] = mapped_column(sa.String(255), default="")
    read_lan: Mapped[int] = mapped_column(sa.Integer, default=0)
    write_lan: Mapped[int] = mapped_column(sa.Integer, default=0)
    delete_lan: Mapped[int] = mapped_column(sa.Integer, default=0)
    read_wan: Mapped[int] = mapped_column(sa.Integer, default=1)
    write_wan: Mapped[int] = mapped_column(sa.Integer, default=1)
    delete_wan: Mapped[int] = mapped_column(sa.Integer, default=1)
    tpc_read_wan: Mapped[int] = mapped_column(sa.Integer, default=1)
    tpc_write_wan: Mapped[int] = mapped_column(sa.Integer, default=1)
    extended_attributes: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)


class RSEDistance(Base):
    __tablename__ = "rse_distances"

    src_rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    dest_rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    distance: Mapped[int] = mapped_column(sa.Integer)


class RSELimit(Base):
    """Named limits of an RSE (`MinFreeSpace`, `MaxBeingDeletedFiles`), in bytes or counts."""

    __tablename__ = "rse_limits"

    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    value: Mapped[int] = mapped_column(sa.BigInteger)


class RSEUsage(Base):
    """Space on an RSE by source: `rucio` (the catalogue's own count, kept in the same
    transaction as the replicas) or `srr`/`storage` (reported by the endpoint)."""

    __tablename__ = "rse_usage"

    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    source: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    used: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    free: Mapped[int | None] = mapped_column(sa.BigInteger)
    total: Mapped[int | None] = mapped_column(sa.BigInteger)
    files: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Replica(Base):
    """A copy of a file on an RSE. `path` is set only on non-deterministic RSEs;
    `lock_cnt` and `tombstone` belong to the rules engine and the reaper."""

    __tablename__ = "replicas"
    __table_args__ = (
        sa.ForeignKeyConstraint(["scope", "name"], ["dids.scope", "dids.name"],
                                name="fk_replicas_dids", ondelete="CASCADE"),
        sa.Index("ix_replicas_rse_state", "rse_id", "state"),
        sa.Index("ix_replicas_rse_tombstone", "rse_id", "tombstone"),
    )

    scope: Mapped[str] = mapped_column(SCOPE, primary_key=True)
    name: Mapped[str] = mapped_column(NAME, primary_key=True)
    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id"), primary_key=True)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)
    adler32: Mapped[str | None] = mapped_column(sa.String(8))
    md5: Mapped[str | None] = mapped_column(sa.String(32))
    path: Mapped[str | None] = mapped_column(sa.String(1024))
    state: Mapped[ReplicaState] = mapped_column(_enum(ReplicaState), default=ReplicaState.AVAILABLE)
    lock_cnt: Mapped[int] = mapped_column(sa.Integer, default=0)
    tombstone: Mapped[datetime | None] = mapped_column(UtcDateTime)
    accessed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BadReplica(Base):
    __tablename__ = "bad_replicas"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(SCOPE)
    name: Mapped[str] = mapped_column(NAME)
    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), index=True)
    state: Mapped[BadReplicaState] = mapped_column(_enum(BadReplicaState, 16))
    reason: Mapped[str] = mapped_column(sa.String(1024), default="")
    account: Mapped[str] = mapped_column(ACCOUNT)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AccountLimit(Base):
    """A quota: bytes an account may lock on one RSE."""

    __tablename__ = "account_limits"

    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True)
    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)


class AccountGlobalLimit(Base):
    """A quota over the RSEs an expression selects (`country=DE`)."""

    __tablename__ = "account_global_limits"

    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True)
    rse_expression: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    bytes: Mapped[int] = mapped_column(sa.BigInteger)


class AccountUsage(Base):
    """What an account's locks hold per RSE. The rules engine updates it in the same
    transaction as the locks (`service.add_account_usage`)."""

    __tablename__ = "account_usage"

    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True)
    rse_id: Mapped[int] = mapped_column(sa.ForeignKey("rses.id", ondelete="CASCADE"), primary_key=True)
    files: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Trace(Base):
    """A client's report of an upload or download (`POST /traces`), for popularity."""

    __tablename__ = "traces"

    id: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    event_type: Mapped[str] = mapped_column(sa.String(64), default="")
    account: Mapped[str | None] = mapped_column(ACCOUNT)
    scope: Mapped[str | None] = mapped_column(SCOPE)
    name: Mapped[str | None] = mapped_column(NAME)
    dataset_scope: Mapped[str | None] = mapped_column(SCOPE)
    dataset: Mapped[str | None] = mapped_column(NAME)
    rse: Mapped[str | None] = mapped_column(sa.String(64))
    client_state: Mapped[str | None] = mapped_column(sa.String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
