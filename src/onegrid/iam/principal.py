"""Who is calling: a verified token and the active account behind it.

Used by the FastAPI dependency (`onegrid.iam.deps`) and by token exchange, which takes a
token as its input. Checks, in order: the token (signature with the key named by `kid`,
issuer, exp/nbf with leeway, audience, `wlcg.ver`), then the account (exists, active).
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

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
