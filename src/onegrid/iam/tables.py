"""IAM tables: accounts, identities, VO groups, memberships, scope policies, signing keys."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from onegrid.db.base import Base, UtcDateTime


class AccountType(enum.StrEnum):
    USER = "USER"
    SERVICE = "SERVICE"
    ROOT = "ROOT"


class AccountStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    SUSPENDED = "SUSPENDED"


class IdentityKind(enum.StrEnum):
    USERPASS = "USERPASS"
    OIDC = "OIDC"  # a subject of an external issuer


class PolicyRule(enum.StrEnum):
    PERMIT = "PERMIT"
    DENY = "DENY"


class MatchingPolicy(enum.StrEnum):
    EQ = "EQ"
    PATH = "PATH"
    REGEXP = "REGEXP"


class Account(Base):
    __tablename__ = "accounts"

    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    type: Mapped[AccountType] = mapped_column(sa.Enum(AccountType, native_enum=False, length=16))
    status: Mapped[AccountStatus] = mapped_column(
        sa.Enum(AccountStatus, native_enum=False, length=16), default=AccountStatus.ACTIVE
    )
    email: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    suspended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class Identity(Base):
    """A way to prove to be an account: a username and password, or an issuer's subject."""

    __tablename__ = "identities"
    __table_args__ = (sa.UniqueConstraint("kind", "issuer", "identity", name="uq_identities_kind"),)

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), index=True)
    kind: Mapped[IdentityKind] = mapped_column(sa.Enum(IdentityKind, native_enum=False, length=16))
    issuer: Mapped[str] = mapped_column(sa.String(255), default="")
    identity: Mapped[str] = mapped_column(sa.String(255))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Group(Base):
    """A VO group as a path (`/belle/production`); a role is a group asserted on request."""

    __tablename__ = "groups"

    path: Mapped[str] = mapped_column(sa.String(255), primary_key=True)
    is_role: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    description: Mapped[str] = mapped_column(sa.String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Membership(Base):
    __tablename__ = "memberships"

    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), primary_key=True)
    group: Mapped[str] = mapped_column(
        sa.ForeignKey("groups.path", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ScopePolicy(Base):
    """IAM-style scope policy: which scopes an account or a group's members may receive."""

    __tablename__ = "scope_policies"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    rule: Mapped[PolicyRule] = mapped_column(sa.Enum(PolicyRule, native_enum=False, length=8))
    matching: Mapped[MatchingPolicy] = mapped_column(sa.Enum(MatchingPolicy, native_enum=False, length=8))
    account: Mapped[str | None] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), index=True)
    group: Mapped[str | None] = mapped_column(sa.ForeignKey("groups.path", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON)
    description: Mapped[str] = mapped_column(sa.String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class SigningKey(Base):
    """A token signing key. The newest active one signs; all unretired ones verify."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    alg: Mapped[str] = mapped_column(sa.String(8))
    private_pem: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class ClientSecret(Base):
    """A secret with which a SERVICE account obtains tokens by `client_credentials`
    (client_id = the account name). Several per account, so a secret can be rotated."""

    __tablename__ = "client_secrets"

    id: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=True)
    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(255))
    description: Mapped[str] = mapped_column(sa.String(1024), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class RefreshToken(Base):
    """An opaque refresh token (only its SHA-256 is kept) and what it may be exchanged for:
    the scopes and audience of the original grant, never more."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    account: Mapped[str] = mapped_column(sa.ForeignKey("accounts.name", ondelete="CASCADE"), index=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON)
    audience: Mapped[list[str]] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
