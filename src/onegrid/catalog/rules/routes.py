"""Rucio-compatible routes of replication rules and subscriptions (what the stock
`rucio` client's RuleClient, DIDClient and SubscriptionClient call).

Who may do what: anyone signed in reads; a rule is made for one's own account (root and
service accounts for any), and changed or removed by its owner (or root/service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from onegrid.catalog.rest_common import (
    created,
    is_privileged,
    json_body,
    json_response,
    ok,
    require,
    split_scope_name,
    stream,
)
from onegrid.catalog.rules import service, subscriptions
from onegrid.deps import RuntimeDep, SessionDep
from onegrid.errors import Forbidden
from onegrid.iam.deps import CurrentPrincipal, Principal

router = APIRouter(tags=["rucio: rules"])


def _may_act_for(principal: Principal, account: str, what: str) -> None:
    if account != principal.account and not is_privileged(principal):
        raise Forbidden(f"account {principal.account} may not {what} of account {account}")


@router.post("/rules")
@router.post("/rules/")
def add_rule(principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
             body: Any = Depends(json_body)) -> Response:
    account = body.get("account") or principal.account
    _may_act_for(principal, account, "make rules")
    ids = service.add_rules(
        session, runtime.clock, runtime.rng, dids=require(body, "dids", list), account=account,
        copies=require(body, "copies"), rse_expression=require(body, "rse_expression", str),
        grouping=body.get("grouping"), weight=body.get("weight"), lifetime=body.get("lifetime"),
        locked=bool(body.get("locked")), source_replica_expression=body.get("source_replica_expression"),
        activity=body.get("activity"), notify=body.get("notify"), purge_replicas=bool(body.get("purge_replicas")),
        ignore_availability=bool(body.get("ignore_availability")),
        ignore_account_limit=bool(body.get("ignore_account_limit")) and is_privileged(principal),
        comment=body.get("comment"), priority=int(body.get("priority") or 3),
        asynchronous=bool(body.get("asynchronous") or body.get("delay_injection")), meta=body.get("meta"))
    return json_response(ids, status=201)


@router.get("/rules")
@router.get("/rules/")
def list_rules(request: Request, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    filters = dict(request.query_params.items())
    return stream(runtime, lambda s: service.list_rules(s, filters))


@router.get("/rules/{rule_id}")
def get_rule(rule_id: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(service.rule_to_dict(service.get_rule(session, rule_id)))


@router.put("/rules/{rule_id}")
def update_rule(rule_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                body: Any = Depends(json_body)) -> Response:
    rule = service.get_rule(session, rule_id)
    _may_act_for(principal, rule.account, "change rules")
    options = require(body, "options", dict)
    if "account" in options:
        _may_act_for(principal, str(options["account"]), "give rules to the account")
    service.update_rule(session, runtime.clock, rule_id, options)
    return ok()


@router.delete("/rules/{rule_id}")
def delete_rule(rule_id: str, principal: CurrentPrincipal, runtime: RuntimeDep, session: SessionDep,
                body: Any = Depends(json_body)) -> Response:
    rule = service.get_rule(session, rule_id)
    _may_act_for(principal, rule.account, "remove rules")
    purge = body.get("purge_replicas") if isinstance(body, dict) else None
    service.delete_rule(session, runtime.clock, rule_id, purge_replicas=purge)
    return ok()


@router.get("/rules/{rule_id}/locks")
def list_locks(rule_id: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: service.list_locks(s, rule_id))


@router.get("/rules/{rule_id}/analysis")
def analysis(rule_id: str, principal: CurrentPrincipal, session: SessionDep) -> Response:
    return json_response(service.examine(session, rule_id))


@router.get("/dids/{scope_name:path}/rules")
def rules_of_did(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: service.rules_of_did(s, scope, name))


@router.get("/dids/{scope_name:path}/associated_rules")
def associated_rules(scope_name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    scope, name = split_scope_name(scope_name)
    return stream(runtime, lambda s: service.associated_rules(s, scope, name))


@router.get("/accounts/{account}/rules")
def rules_of_account(account: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: service.list_rules(s, {"account": account}))


# -- subscriptions -------------------------------------------------------------------------


@router.get("/subscriptions")
@router.get("/subscriptions/")
def list_subscriptions(principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: subscriptions.list_subscriptions(s))


@router.get("/subscriptions/name/{name}")
def subscriptions_by_name(name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: subscriptions.list_subscriptions(s, name=name))


@router.get("/subscriptions/{account}")
def subscriptions_of(account: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: subscriptions.list_subscriptions(s, account=account))


@router.get("/subscriptions/{account}/{name}")
def get_subscription(account: str, name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: subscriptions.list_subscriptions(s, account=account, name=name))


@router.get("/subscriptions/{account}/{name}/rules")
def subscription_rules(account: str, name: str, principal: CurrentPrincipal, runtime: RuntimeDep) -> Response:
    return stream(runtime, lambda s: subscriptions.rules_of(s, account, name))


@router.post("/subscriptions/{account}/{name}")
def add_subscription(account: str, name: str, principal: CurrentPrincipal, runtime: RuntimeDep,
                     session: SessionDep, body: Any = Depends(json_body)) -> Response:
    _may_act_for(principal, account, "add subscriptions")
    options = require(body, "options", dict)
    sub_id = subscriptions.add_subscription(
        session, runtime.clock, name=name, account=account, filter_=options.get("filter") or {},
        rules=options.get("replication_rules"), comments=options.get("comments"),
        lifetime=options.get("lifetime") or None, priority=int(options.get("priority") or 3),
        retroactive=bool(options.get("retroactive")))
    return created(sub_id)


@router.put("/subscriptions/{account}/{name}")
def update_subscription(account: str, name: str, principal: CurrentPrincipal, runtime: RuntimeDep,
                        session: SessionDep, body: Any = Depends(json_body)) -> Response:
    _may_act_for(principal, account, "change subscriptions")
    subscriptions.update_subscription(session, runtime.clock, account, name, require(body, "options", dict))
    return created()
