"""Rucio-compatible auth, ping, accounts, scopes and account limits."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

import onegrid
from onegrid.catalog import accounting, scopes
from onegrid.catalog.rest_common import created, json_body, json_response, ok, require, stream
from onegrid.deps import RuntimeDep, SessionDep
from onegrid.errors import Forbidden, InvalidInput, Unauthenticated
from onegrid.iam import service as iam
from onegrid.iam.deps import CurrentPrincipal, Principal
from onegrid.iam.issuer import mint
from onegrid.iam.tables import Account, AccountType

router = APIRouter(tags=["rucio: accounts"])


@router.get("/ping")
def ping(runtime: RuntimeDep) -> dict[str, str]:
    return {"version": runtime.settings.catalog.rucio_api_version, "onegrid": onegrid.__version__}


@router.get("/auth/userpass")
def auth_userpass(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Rucio's password login: the answer's `X-Rucio-Auth-Token` is a OneGrid JWT."""
    username = request.headers.get("x-rucio-username")
    password = request.headers.get("x-rucio-password")
    wanted = request.headers.get("x-rucio-account")
    if not username or not password:
        raise Unauthenticated("X-Rucio-Username and X-Rucio-Password are required")
    account = iam.check_password(session, username, password)
    if wanted and wanted != account.name:
        raise Unauthenticated(f"identity {username} does not belong to account {wanted}")
    lifetime = runtime.settings.iam.access_token_lifetime
    token = mint(runtime, account.name, groups=iam.groups_of(session, account.name), lifetime=lifetime)
    expires = int(runtime.clock.now().timestamp()) + lifetime
    return Response("", status_code=200, headers={"X-Rucio-Auth-Token": token,
                                                  "X-Rucio-Auth-Token-Expires": str(expires)})


@router.get("/auth/validate")
def auth_validate(principal: CurrentPrincipal) -> Response:
    return json_response({"account": principal.account, "identity": principal.claims.subject,
                          "lifetime": principal.claims.expires})


def _account_dict(a: Account) -> dict[str, Any]:
    return {"account": a.name, "account_type": a.type.value, "type": a.type.value, "status": a.status.value,
            "email": a.email, "created_at": a.created_at.isoformat(), "updated_at": a.created_at.isoformat(),
            "suspended_at": a.suspended_at.isoformat() if a.suspended_at else None, "deleted_at": None}


@router.get("/accounts/whoami")
def whoami(principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(_account_dict(iam.get_account(session, principal.account)))


@router.get("/accounts")
@router.get("/accounts/")
def list_accounts(principal: CurrentPrincipal, runtime: RuntimeDep, request: Request) -> Response:
    wanted_type = request.query_params.get("account_type")

    def produce(session: Any) -> Any:
        query = sa.select(Account).order_by(Account.name)
        if wanted_type:
            query = query.where(Account.type == wanted_type.upper())
        for a in session.scalars(query):
            yield {"account": a.name, "type": a.type.value, "email": a.email}

    return stream(runtime, produce)


@router.get("/accounts/{account}")
def get_account(account: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(_account_dict(iam.get_account(session, account)))


@router.post("/accounts/{account}")
def add_account(account: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                body: Any = Depends(json_body)) -> Response:
    principal.require_root("add accounts")
    kind = str(body.get("type", "USER")).upper()
    if kind == "GROUP":
        kind = "SERVICE"
    try:
        account_type = AccountType(kind)
    except ValueError:
        raise InvalidInput(f"account type must be USER or SERVICE, not {kind}") from None
    iam.create_account(session, runtime.clock, account, account_type, body.get("email"))
    scopes.ensure_user_scope(session, runtime.clock, account)
    return created()


# -- scopes --------------------------------------------------------------------------


@router.get("/scopes")
@router.get("/scopes/")
def list_scopes(principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response([s.scope for s in scopes.list_scopes(session)])


@router.get("/scopes/owner")
def list_scope_owners(principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response([{"scope": s.scope, "account": s.account} for s in scopes.list_scopes(session)])


@router.put("/scopes/{account}/{scope}")
def set_scope_owner(account: str, scope: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require_root("change scope owners")
    iam.get_account(session, account)
    scopes.get_scope(session, scope).account = account
    return created()


@router.get("/accounts/{account}/scopes")
@router.get("/accounts/{account}/scopes/")
def list_account_scopes(account: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    iam.get_account(session, account)
    found = [s.scope for s in scopes.list_scopes(session, account)]
    if not found:
        raise scopes.ScopeNotFound(f"account {account} owns no scope")
    return json_response(found)


@router.post("/accounts/{account}/scopes/{scope}")
def add_scope(account: str, scope: str, principal: CurrentPrincipal, runtime: RuntimeDep,
              session: SessionDep) -> Response:
    _root_or_self(principal, account, "add scopes for other accounts")
    scopes.add_scope(session, runtime.clock, scope, account)
    return created()


def _root_or_self(principal: Principal, account: str, what: str) -> None:
    if not principal.is_root and principal.account != account:
        raise Forbidden(f"only the root account may {what}")


# -- account limits and usage --------------------------------------------------------


@router.get("/accounts/{account}/limits/local")
def get_local_limits(account: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(accounting.local_limits(session, account))


@router.get("/accounts/{account}/limits/local/{rse}")
def get_local_limit(account: str, rse: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response({rse: accounting.local_limits(session, account, rse).get(rse)})


@router.post("/accounts/{account}/limits/local/{rse}")
def set_local_limit(account: str, rse: str, principal: CurrentPrincipal, session: SessionDep,
                    body: Any = Depends(json_body)) -> Response:
    principal.require_root("set account limits")
    accounting.set_local_limit(session, account, rse, int(require(body, "bytes", (int, float))))
    return created()


@router.delete("/accounts/{account}/limits/local/{rse}")
def delete_local_limit(account: str, rse: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    principal.require_root("delete account limits")
    accounting.delete_local_limit(session, account, rse)
    return ok()


@router.get("/accounts/{account}/limits/global")
def get_global_limits(account: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response({k: {"limit": v} for k, v in accounting.global_limits(session, account).items()})


@router.post("/accounts/{account}/limits/global/{rse_expression:path}")
def set_global_limit(account: str, rse_expression: str, principal: CurrentPrincipal, session: SessionDep,
                     body: Any = Depends(json_body)) -> Response:
    principal.require_root("set account limits")
    accounting.set_global_limit(session, account, rse_expression, int(require(body, "bytes", (int, float))))
    return created()


@router.get("/accounts/{account}/usage/local")
@router.get("/accounts/{account}/usage/local/{rse}")
def get_local_usage(account: str, principal: CurrentPrincipal, runtime: RuntimeDep, rse: str | None = None) -> Response:
    return stream(runtime, lambda s: accounting.local_usage(s, account, rse))


@router.get("/accounts/{account}/usage/global")
def get_global_usage(account: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: accounting.global_usage(s, account))
