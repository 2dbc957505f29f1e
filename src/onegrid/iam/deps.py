"""Who is calling: the one token-validation dependency every router uses.

A request authenticates with `Authorization: Bearer <jwt>` or, for the stock Rucio client,
`X-Rucio-Auth-Token: <jwt>` (the same tokens). The token is checked against our own keys
or those of a trusted external issuer (`onegrid.iam.principal.authenticate`); the account
behind it must exist and be active.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from onegrid.deps import RuntimeDep
from onegrid.errors import Unauthenticated
from onegrid.iam.principal import Principal, authenticate

__all__ = [
    "CurrentPrincipal",
    "OptionalPrincipal",
    "Principal",
    "RootPrincipal",
    "authenticate",
    "bearer_token",
    "get_optional_principal",
    "get_principal",
    "get_root",
]


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.headers.get("x-rucio-auth-token") or None


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
