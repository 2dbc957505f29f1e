"""IAM administration under /iam: accounts, groups, memberships, scope policies, keys.

OneGrid's own REST (Rucio's /accounts routes live in the catalogue). Every route needs a
token; what each caller may do is in `onegrid.iam.authz`.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query

from onegrid.deps import ClockDep, RuntimeDep, SessionDep, SettingsDep
from onegrid.iam import keyring, policy_service, service
from onegrid.iam.authz import require_account_reader, require_group_admin
from onegrid.iam.deps import CurrentPrincipal, RootPrincipal
from onegrid.iam.models import (
    AccountCreate,
    GroupCreate,
    MemberChange,
    PasswordSet,
    PolicyCreate,
    SecretCreate,
)
from onegrid.iam.tables import Account, AccountStatus, AccountType, Group, ScopePolicy, SigningKey

router = APIRouter(prefix="/iam", tags=["iam admin"])


def account_json(a: Account) -> dict[str, Any]:
    return {"name": a.name, "type": a.type.value, "status": a.status.value, "email": a.email,
            "created_at": a.created_at.isoformat(),
            "suspended_at": a.suspended_at.isoformat() if a.suspended_at else None}


def group_json(g: Group, members: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"path": g.path, "role": g.is_role, "description": g.description,
                           "created_at": g.created_at.isoformat()}
    if members is not None:
        out["members"] = members
    return out


def policy_json(p: ScopePolicy) -> dict[str, Any]:
    return {"id": p.id, "rule": p.rule.value, "matching": p.matching.value, "account": p.account,
            "group": p.group, "scopes": list(p.scopes), "description": p.description,
            "created_at": p.created_at.isoformat()}


def key_json(k: SigningKey, signing_kid: str | None) -> dict[str, Any]:
    return {"kid": k.kid, "alg": k.alg, "created_at": k.created_at.isoformat(),
            "retired_at": k.retired_at.isoformat() if k.retired_at else None, "signing": k.kid == signing_kid}


# -- accounts ---------------------------------------------------------------------------


@router.post("/accounts", status_code=201)
def add_account(body: AccountCreate, principal: RootPrincipal, session: SessionDep,
                clock: ClockDep) -> dict[str, Any]:
    account = service.create_account(session, clock, body.name, body.type, body.email)
    if body.password:
        service.set_password(session, clock, body.name, body.name, body.password)
    for group in body.groups:
        service.add_member(session, clock, group, body.name)
    return account_json(account)


@router.get("/accounts")
def list_accounts(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
                  type: AccountType | None = None) -> list[dict[str, Any]]:
    require_account_reader(session, principal, settings.iam.vo_admin_group, None)
    return [account_json(a) for a in service.list_accounts(session, type=type)]


@router.get("/accounts/{name}")
def show_account(name: str, principal: CurrentPrincipal, session: SessionDep,
                 settings: SettingsDep) -> dict[str, Any]:
    require_account_reader(session, principal, settings.iam.vo_admin_group, name)
    account = service.get_account(session, name)
    return {**account_json(account), "usernames": service.usernames_of(session, name),
            "groups": service.groups_of(session, name, roles=True),
            "policies": [policy_json(p) for p in policy_service.list_policies(session, account=name)]}


@router.post("/accounts/{name}/suspend")
def suspend_account(name: str, principal: RootPrincipal, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return account_json(service.set_status(session, clock, name, AccountStatus.SUSPENDED))


@router.post("/accounts/{name}/activate")
def activate_account(name: str, principal: RootPrincipal, session: SessionDep, clock: ClockDep) -> dict[str, Any]:
    return account_json(service.set_status(session, clock, name, AccountStatus.ACTIVE))


@router.post("/accounts/{name}/password")
def set_password(name: str, body: PasswordSet, principal: CurrentPrincipal, session: SessionDep,
                 clock: ClockDep) -> dict[str, Any]:
    if name != principal.account:
        principal.require_root("set another account's password")
    identity = service.set_password(session, clock, name, body.username or name, body.password)
    return {"account": name, "username": identity.identity}


@router.post("/accounts/{name}/secrets", status_code=201)
def add_client_secret(name: str, body: SecretCreate, principal: RootPrincipal, session: SessionDep,
                      clock: ClockDep) -> dict[str, Any]:
    """A client secret for `client_credentials`, shown only in this answer."""
    secret = service.create_client_secret(session, clock, name, body.description)
    return {"client_id": name, "client_secret": secret}


# -- groups -----------------------------------------------------------------------------


@router.post("/groups", status_code=201)
def add_group(body: GroupCreate, principal: CurrentPrincipal, session: SessionDep, clock: ClockDep,
              settings: SettingsDep) -> dict[str, Any]:
    require_group_admin(session, principal, settings.iam.vo_admin_group, body.path)
    return group_json(service.create_group(session, clock, body.path, is_role=body.role,
                                           description=body.description), 0)


@router.get("/groups")
def list_groups(principal: CurrentPrincipal, session: SessionDep,
                under: str | None = Query(None, description="only this group and those below it"),
                ) -> list[dict[str, Any]]:
    return [group_json(g, n) for g, n in service.list_groups(session, under=under)]


@router.get("/groups/members")
def list_members(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
                 group: str = Query(...)) -> list[str]:
    if not principal.in_group(group):
        require_group_admin(session, principal, settings.iam.vo_admin_group, group)
    return service.members_of(session, group)


@router.post("/groups/members")
def add_member(body: MemberChange, principal: CurrentPrincipal, session: SessionDep, clock: ClockDep,
               settings: SettingsDep) -> dict[str, str]:
    require_group_admin(session, principal, settings.iam.vo_admin_group, body.group)
    service.add_member(session, clock, body.group, body.account)
    return {"group": body.group, "account": body.account}


@router.delete("/groups/members")
def remove_member(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
                  group: str = Query(...), account: str = Query(...)) -> dict[str, str]:
    require_group_admin(session, principal, settings.iam.vo_admin_group, group)
    service.remove_member(session, group, account)
    return {"group": group, "account": account}


# -- scope policies ---------------------------------------------------------------------


@router.post("/policies", status_code=201)
def add_policy(body: PolicyCreate, principal: CurrentPrincipal, session: SessionDep, clock: ClockDep,
               settings: SettingsDep) -> dict[str, Any]:
    if body.group is not None:
        require_group_admin(session, principal, settings.iam.vo_admin_group, body.group)
    else:
        principal.require_root("set an account's scope policy")
    policy = policy_service.add_policy(session, clock, rule=body.rule, matching=body.matching,
                                       scopes=body.scopes, account=body.account, group=body.group,
                                       description=body.description)
    return policy_json(policy)


@router.get("/policies")
def list_policies(principal: CurrentPrincipal, session: SessionDep, settings: SettingsDep,
                  account: str | None = None, group: str | None = None) -> list[dict[str, Any]]:
    if group is not None:
        require_group_admin(session, principal, settings.iam.vo_admin_group, group)
    else:
        require_account_reader(session, principal, settings.iam.vo_admin_group, account)
    return [policy_json(p) for p in policy_service.list_policies(session, account=account, group=group)]


@router.delete("/policies/{policy_id}")
def delete_policy(policy_id: int, principal: CurrentPrincipal, session: SessionDep,
                  settings: SettingsDep) -> dict[str, Any]:
    policy = policy_service.get_policy(session, policy_id)
    if policy.group is not None:
        require_group_admin(session, principal, settings.iam.vo_admin_group, policy.group)
    else:
        principal.require_root("delete an account's scope policy")
    out = policy_json(policy)
    policy_service.delete_policy(session, policy_id)
    return out


# -- signing keys -----------------------------------------------------------------------


@router.get("/keys")
def list_keys(principal: RootPrincipal, session: SessionDep, runtime: RuntimeDep) -> list[dict[str, Any]]:
    signing = runtime.signing_key().kid
    return [key_json(k, signing) for k in keyring.list_keys(session)]


@router.post("/keys/rotate")
def rotate_key(principal: RootPrincipal, runtime: RuntimeDep) -> dict[str, Any]:
    """A new signing key; old keys keep verifying until no token they signed can be alive."""
    iam = runtime.settings.iam
    with runtime.transaction() as session:
        new, retired = keyring.rotate(session, runtime.clock, alg=iam.signing_alg, retire_after=iam.key_retire_after)
    runtime.load_keys()
    return {"kid": new.kid, "alg": new.alg, "retired": retired}
