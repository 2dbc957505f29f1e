"""Public keys of other token issuers, found by OIDC discovery and cached.

Used by the server (trusted external issuers) and by every storage endpoint (keys of the
OneGrid issuer it is configured with).
"""

from __future__ import annotations

import threading
from typing import Any

import httpx
import jwt

from onegrid.clock import Clock
from onegrid.iam.keys import PublicKey

# A kid we have never seen triggers a refetch at most this often (seconds): an attacker
# sending random kids must not turn us into a load generator against the issuer.
UNKNOWN_KID_REFETCH_INTERVAL = 10


def keys_from_jwks(jwks: dict[str, Any]) -> dict[str, PublicKey]:
    out: dict[str, PublicKey] = {}
    for jwk in jwks.get("keys", []):
        kid = jwk.get("kid")
        if not kid or jwk.get("use", "sig") != "sig":
            continue
        try:
            key = jwt.PyJWK(jwk).key
        except jwt.PyJWTError:
            continue
        out[kid] = key
    return out


class RemoteJwks:
    """Keys per issuer by `iss/.well-known/openid-configuration` → `jwks_uri`."""

    def __init__(self, clock: Clock, *, cache_seconds: int = 600, http: httpx.Client | None = None) -> None:
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._http = http or httpx.Client(timeout=10, verify=False)
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, dict[str, PublicKey]]] = {}

    def _fetch(self, issuer: str) -> dict[str, PublicKey]:
        conf = self._http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        conf.raise_for_status()
        jwks = self._http.get(conf.json()["jwks_uri"])
        jwks.raise_for_status()
        return keys_from_jwks(jwks.json())

    def resolve(self, issuer: str, kid: str) -> PublicKey | None:
        now = self._clock.monotonic()
        with self._lock:
            fetched_at, keys = self._keys.get(issuer, (float("-inf"), {}))
        stale = now - fetched_at > self._cache_seconds
        unknown = kid not in keys and now - fetched_at > UNKNOWN_KID_REFETCH_INTERVAL
        if stale or unknown:
            try:
                keys = self._fetch(issuer)
            except (httpx.HTTPError, KeyError, ValueError):
                return keys.get(kid)  # keep serving what we had while the issuer is away
            with self._lock:
                self._keys[issuer] = (now, keys)
        return keys.get(kid)
