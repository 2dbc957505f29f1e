"""IAM routes: OIDC discovery, JWKS, whoami."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from onegrid.deps import RuntimeDep
from onegrid.iam.deps import CurrentPrincipal

router = APIRouter(tags=["iam"])


@router.get("/.well-known/openid-configuration")
def openid_configuration(runtime: RuntimeDep) -> dict[str, Any]:
    iss = runtime.issuer
    return {
        "issuer": iss,
        "jwks_uri": f"{iss}/jwks",
        "token_endpoint": f"{iss}/token",
        "grant_types_supported": [
            "password",
            "client_credentials",
            "refresh_token",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ],
        "id_token_signing_alg_values_supported": ["ES256", "RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "offline_access", "storage.read:/", "storage.create:/",
                             "storage.modify:/", "storage.stage:/", "compute.read", "compute.modify",
                             "compute.create", "compute.cancel"],
    }


@router.get("/jwks")
def jwks(runtime: RuntimeDep) -> dict[str, Any]:
    return {"keys": [k.public_jwk() for k in runtime.verification_keys()]}


@router.get("/whoami")
def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
    return {
        "account": principal.account,
        "type": principal.account_type.value,
        "groups": list(principal.groups),
        "scopes": [str(s) for s in principal.scopes],
        "issuer": principal.claims.issuer,
        "expires": principal.claims.expires,
    }
