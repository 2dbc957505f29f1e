"""Issuing and verifying WLCG common-JWT-profile tokens (profile v1.3, SPECS.md §4)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from onegrid.clock import Clock
from onegrid.errors import Forbidden, Unauthenticated
from onegrid.iam.keys import KeyPair, PublicKey

WLCG_ANY_AUDIENCE = "https://wlcg.cern.ch/jwt/v1/any"
WLCG_VERSION = "1.0"
ALLOWED_ALGS = ("ES256", "RS256")


@dataclass(frozen=True)
class TokenClaims:
    """A verified token: who, for what, and the raw claims."""

    issuer: str
    subject: str
    scopes: tuple[str, ...]
    groups: tuple[str, ...]
    audience: tuple[str, ...]
    expires: int
    jti: str
    raw: dict[str, Any] = field(default_factory=dict)


def issue_token(
    key: KeyPair,
    *,
    issuer: str,
    subject: str,
    audience: str | list[str],
    scopes: list[str] | tuple[str, ...] = (),
    groups: list[str] | tuple[str, ...] = (),
    lifetime: int,
    clock: Clock,
    backdate: int = 60,
    extra: dict[str, Any] | None = None,
) -> str:
    now = int(clock.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "iat": now,
        "nbf": now - backdate,
        "exp": now + lifetime,
        "jti": str(uuid.uuid4()),
        "wlcg.ver": WLCG_VERSION,
    }
    if scopes:
        claims["scope"] = " ".join(scopes)
    if groups:
        claims["wlcg.groups"] = list(groups)
    claims.update(extra or {})
    return jwt.encode(claims, key.private, algorithm=key.alg, headers={"kid": key.kid, "typ": "JWT"})


def _alg_of(key: PublicKey) -> str:
    return "ES256" if isinstance(key, ec.EllipticCurvePublicKey) else "RS256"


KeyResolver = Callable[[str, str], PublicKey | None]
"""(issuer, kid) -> the public key, or None if the issuer does not know that kid."""


def verify_token(
    token: str,
    *,
    resolve_key: KeyResolver,
    trusted_issuers: list[str] | tuple[str, ...],
    audiences: list[str] | tuple[str, ...],
    clock: Clock,
    leeway: int = 60,
) -> TokenClaims:
    """Verify signature, issuer, times, audience and profile version, or raise Unauthenticated."""
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"malformed token: {exc}") from exc
    alg = header.get("alg")
    if alg not in ALLOWED_ALGS:
        # The profile allows only asymmetric signatures: no `none`, no HMAC (which would let
        # anyone holding the public key forge tokens).
        raise Unauthenticated(f"token algorithm {alg!r} is not accepted; use ES256 or RS256")
    kid = header.get("kid")
    if not kid:
        raise Unauthenticated("token has no 'kid' in its header")
    iss = unverified.get("iss")
    if iss not in trusted_issuers:
        raise Unauthenticated(f"token issuer {iss!r} is not trusted")
    key = resolve_key(iss, kid)
    if key is None:
        raise Unauthenticated(f"token signed with unknown key {kid!r} of issuer {iss}")
    if alg != _alg_of(key):
        # The key decides the algorithm, never the header (RFC 8725 §3.1).
        raise Unauthenticated(f"token algorithm {alg} does not match key {kid!r}")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[alg],
            # Times are checked below against the injected clock, not PyJWT's system clock.
            options={"verify_aud": False, "verify_exp": False, "verify_nbf": False, "verify_iat": False,
                     "require": ["exp", "iat", "iss", "sub"]},
        )
    except jwt.InvalidSignatureError as exc:
        raise Unauthenticated("token signature is invalid") from exc
    except jwt.PyJWTError as exc:
        raise Unauthenticated(f"invalid token: {exc}") from exc
    now = clock.time()
    if not isinstance(claims["exp"], int | float) or not isinstance(claims.get("nbf", 0), int | float):
        raise Unauthenticated("token exp/nbf must be numbers")
    if claims["exp"] + leeway < now:
        raise Unauthenticated("token has expired; log in again")
    if claims.get("nbf", 0) - leeway > now:
        raise Unauthenticated("token is not valid yet (nbf in the future)")
    ver = str(claims.get("wlcg.ver", ""))
    if ver.split(".")[0] != "1":
        raise Unauthenticated(f"unsupported wlcg.ver {ver!r}; this service accepts 1.x")
    aud = claims.get("aud")
    aud_list = [aud] if isinstance(aud, str) else list(aud or [])
    if not aud_list:
        raise Unauthenticated("token has no audience")
    if WLCG_ANY_AUDIENCE not in aud_list and not {a.rstrip("/") for a in aud_list} & {a.rstrip("/") for a in audiences}:
        raise Forbidden(f"token audience {aud_list} does not include this service ({audiences[0]})")
    return TokenClaims(
        issuer=iss,
        subject=str(claims["sub"]),
        scopes=tuple(str(claims.get("scope", "")).split()),
        groups=tuple(claims.get("wlcg.groups", []) or []),
        audience=tuple(aud_list),
        expires=int(claims["exp"]),
        jti=str(claims.get("jti", "")),
        raw=claims,
    )
