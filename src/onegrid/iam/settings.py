"""Settings of onegrid.iam (the `iam` section of the configuration)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class IamSettings(BaseModel):
    signing_alg: Literal["ES256", "RS256"] = "ES256"
    # WLCG common JWT profile §"Token lifetime": access 1 h by default (15 min to 6 h).
    access_token_lifetime: int = Field(3600, ge=60, le=6 * 3600)
    refresh_token_lifetime: int = Field(30 * 24 * 3600, ge=3600)
    # Seconds of clock skew allowed on exp/nbf, and how far nbf is back-dated.
    leeway: int = 60
    # Other issuers whose tokens the server accepts (keys by OIDC discovery).
    trusted_issuers: list[str] = Field(default_factory=list)
    # How long fetched JWKS of external issuers are trusted before they are refetched.
    jwks_cache_seconds: int = 600
    # Days after which a new signing key is made; old keys keep verifying until retired.
    key_rotation_days: int = 30
