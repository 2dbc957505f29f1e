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
    # The default scope policy (after account and group policies): capability scopes an
    # account receives when no policy of its own or of its groups says otherwise.
    default_grants: list[str] = Field(
        default_factory=lambda: ["compute.read", "compute.create", "compute.modify", "compute.cancel",
                                 "storage.read:/"]
    )
    # What a grant asks for when the client names no scope (then filtered by policy).
    default_scopes: list[str] = Field(
        default_factory=lambda: ["openid", "offline_access", "wlcg.groups", "compute.read", "compute.create",
                                 "compute.modify", "compute.cancel", "storage.read:/"]
    )
    # A VO's administrators are the members of this group under the VO (`/belle/admin`):
    # they manage the VO's groups, memberships and group policies.
    vo_admin_group: str = "admin"
    # A replaced signing key is retired (dropped from /jwks) this long after its successor
    # was made: longer than any token it signed can live (pilot tokens included).
    key_retire_after: int = 7 * 24 * 3600
