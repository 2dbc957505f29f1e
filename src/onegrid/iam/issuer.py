"""Minting tokens with the runtime's current signing key (used by grants and services)."""

from __future__ import annotations

from onegrid.iam.tokens import issue_token
from onegrid.runtime import Runtime


def mint(
    runtime: Runtime,
    subject: str,
    *,
    scopes: list[str] | tuple[str, ...] = (),
    groups: list[str] | tuple[str, ...] = (),
    audience: str | list[str] | None = None,
    lifetime: int | None = None,
) -> str:
    """A signed access token from our issuer; audience defaults to the server itself."""
    iam = runtime.settings.iam
    return issue_token(
        runtime.signing_key(),
        issuer=runtime.issuer,
        subject=subject,
        audience=audience or runtime.issuer,
        scopes=scopes,
        groups=groups,
        lifetime=lifetime or iam.access_token_lifetime,
        clock=runtime.clock,
        backdate=iam.leeway,
    )
