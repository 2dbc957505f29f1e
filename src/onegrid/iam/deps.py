"""Who is calling: the one token-validation dependency every router uses.

A request authenticates with `Authorization: Bearer <jwt>` or, for the stock Rucio client,
`X-Rucio-Auth-Token: <jwt>` (the same tokens). The token is checked against our own keys
or those of a trusted external issuer; the account behind it must exist and be active.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, Request

from onegrid.deps import RuntimeDep
from onegrid.errors import Forbidden, InvalidInput, Unauthenticated
from onegrid.iam import scopes as scope_rules
from onegrid.iam.tables import Account, AccountStatus, AccountType, Identity, IdentityKind
from onegrid.iam.tokens import TokenClaims, verify_token
from onegrid.runtime import Runtime


@dataclass(frozen=True)
class Principal:
    account: str
    account_type: AccountType
    groups: tuple[str, ...]
    scopes: tuple[scope_rules.Scope, ...]
    claims: TokenClaims
    token: str

    @property
    def is_root(self) -> bool:
        return self.account_type is AccountType.ROOT

    def has_scope(self, action: str, path: str | None = None) -> bool:
        return scope_rules.allows(list(self.scopes), action, path)

    def require_root(self, what: str) -> None:
        if not self.is_root:
            raise Forbidden(f"only the root account may {what}")

    def require_scope(self, action: str, path: str | None = None) -> None:
        if not self.has_scope(action, path):
            target = f"{action}:{path}" if path else action
            raise Forbidden(f"token lacks scope {target}")

    def in_group(self, group: str) -> bool:
        return group in self.groups


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-rucio-auth-token") or None


def authenticate(runtime: Runtime, token: str) -> Principal:
    settings = runtime.settings
    claims = verify_token(
        token,
        resolve_key=runtime.resolve_key,
        trusted_issuers=[runtime.issuer, *settings.iam.trusted_issuers],
        audiences=[runtime.issuer],
        clock=runtime.clock,
        leeway=settings.iam.leeway,
    )
    with runtime.reading() as session:
        if claims.issuer == runtime.issuer:
            account = session.get(Account, claims.subject)
        else:
            account = session.scalars(
                sa.select(Account)
                .join(Identity, Identity.account == Account.name)
                .where(
                    Identity.kind == IdentityKind.OIDC,
                    Identity.issuer == claims.issuer,
                    Identity.identity == claims.subject,
                )
            ).first()
    if account is None:
        raise Unauthenticated(f"no account for token subject {claims.subject!r} of {claims.issuer}")
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthenticated(f"account {account.name} is suspended")
    try:
        parsed = tuple(scope_rules.parse_scopes(list(claims.scopes)))
    except InvalidInput as exc:
        raise Unauthenticated(f"token carries a malformed scope: {exc}") from exc
    return Principal(
        account=account.name,
        account_type=account.type,
        groups=claims.groups,
        scopes=parsed,
        claims=claims,
        token=token,
    )


def get_principal(request: Request, runtime: RuntimeDep) -> Principal:
    token = bearer_token(request)
    if not token:
        raise Unauthenticated("no token: send 'Authorization: Bearer <token>' (onegrid login)")
    return authenticate(runtime, token)


def get_optional_principal(request: Request, runtime: RuntimeDep) -> Principal | None:
    token = bearer_token(request)
    return authenticate(runtime, token) if token else None


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]


def get_root(principal: CurrentPrincipal) -> Principal:
    principal.require_root("do this")
    return principal


RootPrincipal = Annotated[Principal, Depends(get_root)]
