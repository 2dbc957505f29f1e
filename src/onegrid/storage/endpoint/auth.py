"""Who may do what: WLCG token scopes on paths relative to the endpoint's base path.

Common JWT profile v1.3 (SPECS.md §4): `storage.read` for data and listings,
`storage.create` to add new files and directories (never to overwrite or delete),
`storage.modify` to overwrite, delete and move (and everything `create` allows),
`storage.stage` to recall from tape; any storage scope on a path allows stat on it.
Signature, issuer, times and audience are checked by `onegrid.iam.tokens.verify_token`
with the issuer's keys from OIDC discovery (`onegrid.iam.jwks.RemoteJwks`).
"""

from __future__ import annotations

import asyncio
import enum
from dataclasses import dataclass

from onegrid.clock import Clock
from onegrid.errors import Forbidden, InvalidInput, Unauthenticated
from onegrid.iam.jwks import RemoteJwks
from onegrid.iam.scopes import allows, parse_scopes
from onegrid.iam.tokens import TokenClaims, verify_token
from onegrid.storage.endpoint.paths import StoragePath

# Bounded so that a flood of distinct tokens cannot grow memory without end.
TOKEN_CACHE_ENTRIES = 4096


class Access(enum.Enum):
    STAT = "storage.stat"
    READ = "storage.read"
    CREATE = "storage.create"
    MODIFY = "storage.modify"
    STAGE = "storage.stage"


@dataclass(frozen=True)
class Caller:
    """The bearer of a verified token, or nobody (anonymous)."""

    claims: TokenClaims | None

    @property
    def subject(self) -> str:
        return self.claims.subject if self.claims else "-"


def bearer_token(authorization: str | None) -> str | None:
    if not authorization:
        return None
    kind, _, token = authorization.strip().partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the Authorization header must be 'Bearer <token>'")
    return token.strip()


class Authorizer:
    def __init__(
        self, *, issuer: str, audiences: tuple[str, ...], clock: Clock, jwks: RemoteJwks,
        anonymous_read: bool = False, cache_seconds: int = 300, leeway: int = 60,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.audiences = audiences
        self.clock = clock
        self.jwks = jwks
        self.anonymous_read = anonymous_read
        self.cache_seconds = cache_seconds
        self.leeway = leeway
        self._cache: dict[str, tuple[float, TokenClaims]] = {}

    def _verify(self, token: str) -> TokenClaims:
        return verify_token(
            token, resolve_key=self.jwks.resolve, trusted_issuers=(self.issuer, self.issuer + "/"),
            audiences=self.audiences, clock=self.clock, leeway=self.leeway,
        )

    async def caller(self, authorization: str | None) -> Caller:
        """Verify the bearer token (cached; key discovery off the event loop)."""
        token = bearer_token(authorization)
        if token is None:
            return Caller(None)
        now = self.clock.time()
        hit = self._cache.get(token)
        if hit is not None and hit[0] > now:
            return Caller(hit[1])
        claims = await asyncio.to_thread(self._verify, token)
        if self.cache_seconds > 0:
            if len(self._cache) >= TOKEN_CACHE_ENTRIES:
                self._cache.clear()
            self._cache[token] = (min(now + self.cache_seconds, claims.expires), claims)
        return Caller(claims)

    def require(self, caller: Caller, access: Access, path: StoragePath) -> None:
        """Raise Unauthenticated (no token) or Forbidden (the token does not cover it)."""
        if caller.claims is None:
            if self.anonymous_read and access in (Access.READ, Access.STAT):
                return
            raise Unauthenticated(f"{access.value} on {path.logical} needs a bearer token")
        try:
            scopes = parse_scopes(list(caller.claims.scopes))
        except InvalidInput as exc:
            raise Forbidden(f"token scopes are malformed: {exc.message}") from exc
        if not allows(scopes, access.value, path.scope_path):
            held = " ".join(caller.claims.scopes) or "none"
            raise Forbidden(
                f"token does not allow {access.value}:{path.scope_path} "
                f"(path {path.logical}); it holds: {held}"
            )
