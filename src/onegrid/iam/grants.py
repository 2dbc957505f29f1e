"""The grants of the token endpoint (RFC 6749, RFC 8693): who gets which token.

Every grant takes `scope` and `audience` as INDIGO IAM's token endpoint does. A first
token (password, client_credentials) gets what the scope policies allow of what was asked
for (`onegrid.iam.policies`); a token from a token (refresh, exchange) gets at most what
the original had: scopes, groups, audience and lifetime only ever narrow.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import utc
from onegrid.errors import Forbidden, InvalidInput, Unauthenticated
from onegrid.iam import policy_service, service
from onegrid.iam.issuer import mint
from onegrid.iam.policies import filter_scopes, is_capability
from onegrid.iam.principal import authenticate
from onegrid.iam.scopes import Scope, narrow, parse_scopes
from onegrid.iam.tables import Account, AccountStatus, AccountType, RefreshToken
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE
from onegrid.runtime import Runtime

GRANT_PASSWORD = "password"
GRANT_CLIENT_CREDENTIALS = "client_credentials"
GRANT_REFRESH = "refresh_token"
GRANT_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
GRANT_TYPES = (GRANT_PASSWORD, GRANT_CLIENT_CREDENTIALS, GRANT_REFRESH, GRANT_EXCHANGE)
ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"
SUBJECT_TOKEN_TYPES = (ACCESS_TOKEN_TYPE, "urn:ietf:params:oauth:token-type:jwt")
GROUPS_SCOPE = "wlcg.groups"


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    scopes: list[str]
    audience: list[str]
    groups: list[str]
    refresh_token: str | None = None
    issued_token_type: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"access_token": self.access_token, "token_type": "Bearer",
                               "expires_in": self.expires_in, "scope": " ".join(self.scopes),
                               "audience": self.audience, "groups": self.groups}
        if self.refresh_token:
            out["refresh_token"] = self.refresh_token
        if self.issued_token_type:
            out["issued_token_type"] = self.issued_token_type
        return out


@dataclass(frozen=True)
class Entitlement:
    """What one account receives for one request: scopes for the claim, ordered groups."""

    scopes: list[Scope]
    groups: list[str] = field(default_factory=list)


def parse_audience(text: str | None) -> list[str] | None:
    """`audience` is space-separated; a trailing slash is not part of a service's name."""
    if text is None or not text.strip():
        return None
    return list(dict.fromkeys(a.rstrip("/") or a for a in text.split()))


def narrow_audience(held: list[str], requested: list[str] | None) -> list[str]:
    """The requested audience if the held one covers it (the WLCG "any" URI covers all)."""
    if requested is None:
        return held
    if WLCG_ANY_AUDIENCE in held:
        return requested
    wider = [a for a in requested if a not in held]
    if wider:
        raise Forbidden(f"audience {' '.join(wider)} is wider than the token's audience {' '.join(held)}")
    return requested


def _split_groups(scopes: list[Scope]) -> tuple[list[str], list[Scope]]:
    """(groups asked for by `wlcg.groups:/g`, every other scope)."""
    groups = [s.path for s in scopes if s.action == GROUPS_SCOPE and s.path]
    return groups, [s for s in scopes if not (s.action == GROUPS_SCOPE and s.path)]


def _meaningful(scopes: list[Scope]) -> list[Scope]:
    return [s for s in scopes if is_capability(s) or (s.action == GROUPS_SCOPE and s.path)]


def entitle(session: Session, runtime: Runtime, account: Account, requested: str | None) -> Entitlement:
    """Apply memberships and scope policies to what was asked for (or the defaults).

    Roles (optional groups) appear only when asked for by `wlcg.groups:/belle/admin`;
    asked-for groups come first, then every ordinary group. Root gets every scope."""
    iam = runtime.settings.iam
    parsed = parse_scopes(requested if requested is not None else iam.default_scopes)
    wanted_groups, others = _split_groups(parsed)
    member_of = set(service.groups_of(session, account.name, roles=True))
    asserted = [g for g in dict.fromkeys(wanted_groups) if g in member_of]
    groups = list(dict.fromkeys([*asserted, *service.groups_of(session, account.name)]))
    if account.type is AccountType.ROOT:
        granted, refused = list(dict.fromkeys(others)), []
    else:
        own, of_groups = policy_service.policies_for(session, account.name)
        granted, refused = filter_scopes(others, account_policies=own, group_policies=of_groups,
                                         default_grants=parse_scopes(iam.default_grants))
    refused += [Scope(GROUPS_SCOPE, g) for g in wanted_groups if g not in member_of]
    asked = _meaningful(parsed)
    if requested is not None and asked and not _meaningful(granted) and not asserted:
        raise Forbidden(f"none of the requested scopes is allowed for account {account.name}: "
                        f"refused {' '.join(str(s) for s in refused)}")
    return Entitlement(scopes=[*granted, *(Scope(GROUPS_SCOPE, g) for g in asserted)], groups=groups)


def _hash(refresh_token: str) -> str:
    return hashlib.sha256(refresh_token.encode()).hexdigest()


def _new_refresh_token(session: Session, runtime: Runtime, account: str, scopes: list[Scope],
                       audience: list[str], expires_at: datetime | None = None) -> str:
    now = runtime.clock.now()
    # Spent and expired refresh tokens of this account go now: the table stays as small as
    # the live logins, without a daemon.
    session.execute(sa.delete(RefreshToken).where(
        RefreshToken.account == account, sa.or_(RefreshToken.expires_at <= now, RefreshToken.revoked_at.is_not(None))))
    raw = secrets.token_urlsafe(32)
    session.add(RefreshToken(
        token_hash=_hash(raw), account=account, scopes=[str(s) for s in scopes], audience=audience,
        created_at=now,
        expires_at=expires_at or now + timedelta(seconds=runtime.settings.iam.refresh_token_lifetime),
    ))
    session.flush()
    return raw


def _issue(runtime: Runtime, account: str, ent: Entitlement, audience: list[str], lifetime: int) -> str:
    # One audience goes out as a string, the form most relying parties expect.
    aud: str | list[str] = audience[0] if len(audience) == 1 else audience
    return mint(runtime, account, scopes=[str(s) for s in ent.scopes], groups=ent.groups, audience=aud,
                lifetime=lifetime)


def _first_token(session: Session, runtime: Runtime, account: Account, scope: str | None,
                 audience: str | None, *, refresh: bool) -> IssuedToken:
    ent = entitle(session, runtime, account, scope)
    aud = parse_audience(audience) or [runtime.issuer]
    lifetime = runtime.settings.iam.access_token_lifetime
    token = _issue(runtime, account.name, ent, aud, lifetime)
    rt = _new_refresh_token(session, runtime, account.name, ent.scopes, aud) if refresh else None
    return IssuedToken(token, lifetime, [str(s) for s in ent.scopes], aud, ent.groups, refresh_token=rt)


def password_grant(session: Session, runtime: Runtime, *, username: str | None, password: str | None,
                   scope: str | None = None, audience: str | None = None) -> IssuedToken:
    if not username or not password:
        raise InvalidInput("the password grant needs username and password")
    account = service.check_password(session, username, password)
    return _first_token(session, runtime, account, scope, audience, refresh=True)


def client_credentials_grant(session: Session, runtime: Runtime, *, client_id: str | None,
                             client_secret: str | None, scope: str | None = None,
                             audience: str | None = None) -> IssuedToken:
    if not client_id or not client_secret:
        raise Unauthenticated("client_credentials needs client_id and client_secret (form or HTTP Basic)")
    account = service.check_client_secret(session, client_id, client_secret)
    # RFC 6749 §4.4.3: no refresh token; the client can always ask again.
    return _first_token(session, runtime, account, scope, audience, refresh=False)


def refresh_grant(session: Session, runtime: Runtime, *, refresh_token: str | None, scope: str | None = None,
                  audience: str | None = None) -> IssuedToken:
    """A new access token (and a new refresh token: the used one is spent) for at most the
    scopes and audience of the original grant, re-checked against today's policies."""
    if not refresh_token:
        raise InvalidInput("the refresh_token grant needs refresh_token")
    now = runtime.clock.now()
    row = session.get(RefreshToken, _hash(refresh_token), with_for_update=True)
    if row is None or row.revoked_at is not None or utc(row.expires_at) <= now:
        raise Unauthenticated("refresh token is unknown, spent or expired; log in again")
    account = service.get_account(session, row.account)
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthenticated(f"account {account.name} is suspended")
    held = parse_scopes(row.scopes)
    wanted = parse_scopes(scope) if scope is not None else held
    narrowed = narrow(held, wanted)
    if scope is not None and _meaningful(wanted) and not _meaningful(narrowed):
        raise Forbidden(f"refresh cannot widen the grant: {scope!r} is not within {' '.join(row.scopes)}")
    aud = narrow_audience(list(row.audience), parse_audience(audience))
    ent = entitle(session, runtime, account, " ".join(str(s) for s in narrowed))
    row.revoked_at = now
    lifetime = runtime.settings.iam.access_token_lifetime
    token = _issue(runtime, account.name, ent, aud, lifetime)
    rt = _new_refresh_token(session, runtime, account.name, narrowed, aud, utc(row.expires_at))
    return IssuedToken(token, lifetime, [str(s) for s in ent.scopes], aud, ent.groups, refresh_token=rt)


def exchange_grant(session: Session, runtime: Runtime, *, subject_token: str | None,
                   subject_token_type: str | None = None, scope: str | None = None,
                   audience: str | None = None) -> IssuedToken:
    """RFC 8693 token exchange: a token for less (scopes, groups, audience, time), never more."""
    if not subject_token:
        raise InvalidInput("token exchange needs subject_token")
    if subject_token_type and subject_token_type not in SUBJECT_TOKEN_TYPES:
        raise InvalidInput(f"subject_token_type {subject_token_type!r} is not supported; use {ACCESS_TOKEN_TYPE}")
    principal = authenticate(runtime, subject_token)
    held = list(principal.scopes)
    wanted = parse_scopes(scope) if scope is not None else held
    wanted_groups, others = _split_groups(wanted)
    # Root may exchange for anything (it could log in for it anyway); others only narrow.
    kept = list(dict.fromkeys(others)) if principal.is_root else narrow(held, others)
    groups = [g for g in dict.fromkeys(wanted_groups) if g in principal.groups]
    if scope is not None and _meaningful(wanted) and not _meaningful(kept) and not groups:
        raise Forbidden(f"token exchange cannot widen a token: none of {scope!r} is within "
                        f"{' '.join(str(s) for s in held) or 'its (empty) scope'}")
    aud = narrow_audience(list(principal.claims.audience), parse_audience(audience))
    remaining = int(principal.claims.expires - runtime.clock.time())
    lifetime = min(runtime.settings.iam.access_token_lifetime, remaining)
    if lifetime <= 0:
        raise Unauthenticated("the subject token has expired")
    ent = Entitlement(scopes=[*kept, *(Scope(GROUPS_SCOPE, g) for g in groups)],
                      groups=groups if wanted_groups else list(principal.groups))
    token = _issue(runtime, principal.account, ent, aud, lifetime)
    return IssuedToken(token, lifetime, [str(s) for s in ent.scopes], aud, ent.groups,
                       issued_token_type=ACCESS_TOKEN_TYPE)
