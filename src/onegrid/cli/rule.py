"""`onegrid rule` (replication rules) and `onegrid subscription` (rules for new data).

    onegrid rule add belle:run1 --copies 1 --rses 'tier=1&istape=True'
    onegrid rule list --did belle:run1 --json
    onegrid rule info RULE_ID          (with why it is stuck)
    onegrid rule update RULE_ID --lifetime 86400 --comment 'keep a day'
    onegrid rule delete RULE_ID --purge
    onegrid subscription add raw --filter '{"datatype": ["RAW"]}' --raw-policy
"""

from __future__ import annotations

import json
from typing import Any

import typer

from onegrid.cli._common import output, print_json, settings_from
from onegrid.cli.scope import JsonOpt, ServerOpt, TokenOpt
from onegrid.client.catalog import parse_did
from onegrid.client.rules import RulesClient
from onegrid.errors import InvalidInput

RULE_COLUMNS = ("id", "account", "did", "state", "locks", "rse_expression", "copies", "expires_at")
SUB_COLUMNS = ("name", "account", "state", "filter", "replication_rules", "comments")


def rules_client(ctx: typer.Context, server: str | None, token: str | None) -> RulesClient:
    from onegrid.client.auth import connect

    return connect(server, token, default_server=settings_from(ctx).server_url).rules


def _row(rule: dict[str, Any]) -> dict[str, Any]:
    return {**rule, "did": f"{rule['scope']}:{rule['name']}",
            "locks": f"{rule['locks_ok_cnt']}/{rule['locks_replicating_cnt']}/{rule['locks_stuck_cnt']}"}


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from None


def register(app: typer.Typer) -> None:
    rule_app = typer.Typer(help="Replication rules: where copies of data must be.", no_args_is_help=True)
    sub_app = typer.Typer(help="Subscriptions: rules that new DIDs matching a filter get.", no_args_is_help=True)
    app.add_typer(rule_app, name="rule")
    app.add_typer(sub_app, name="subscription")

    @rule_app.command("add")
    def add(ctx: typer.Context, dids: list[str] = typer.Argument(..., help="scope:name, one rule each"),
            copies: int = typer.Option(..., "--copies"), rses: str = typer.Option(..., "--rses", help="RSE expression"),
            grouping: str = typer.Option(None, "--grouping", help="ALL, DATASET (default) or NONE"),
            weight: str = typer.Option(None, "--weight", help="RSE attribute used as weight"),
            lifetime: int = typer.Option(None, "--lifetime", help="seconds"),
            locked: bool = typer.Option(False, "--locked"),
            source_rses: str = typer.Option(None, "--source-rses", help="expression for sources"),
            activity: str = typer.Option(None, "--activity"), comment: str = typer.Option(None, "--comment"),
            priority: int = typer.Option(3, "--priority", help="1 (low) .. 5 (high)"),
            asynchronous: bool = typer.Option(False, "--async", help="let the judge make the locks"),
            account: str = typer.Option(None, "--account", help="owner (default: you)"),
            server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Make a rule on each DID (its locks and transfers are made at once)."""
        client = rules_client(ctx, server, token)
        ids = client.add([parse_did(d) for d in dids], copies, rses, grouping=grouping, weight=weight,
                         lifetime=lifetime, locked=locked, source_replica_expression=source_rses,
                         activity=activity, comment=comment, priority=priority, asynchronous=asynchronous,
                         account=account)
        output([_row(client.get(i)) for i in ids], RULE_COLUMNS, as_json=as_json)

    @rule_app.command("list")
    def list_(ctx: typer.Context, did: str = typer.Option(None, "--did", help="rules of this DID"),
              account: str = typer.Option(None, "--account"), state: str = typer.Option(None, "--state"),
              server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """List rules (of a DID, an account, in a state)."""
        client = rules_client(ctx, server, token)
        filters: dict[str, Any] = {"account": account, "state": state}
        if did:
            filters.update(parse_did(did))
        output([_row(r) for r in client.list(**filters)], RULE_COLUMNS, as_json=as_json)

    @rule_app.command("info")
    def info(ctx: typer.Context, rule_id: str, locks: bool = typer.Option(False, "--locks", help="list the locks"),
             server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Show a rule, and why it is stuck if it is."""
        client = rules_client(ctx, server, token)
        rule = client.get(rule_id)
        analysis = client.analysis(rule_id)
        out = {**rule, "analysis": analysis}
        if locks:
            out["locks"] = list(client.locks(rule_id))
        if as_json:
            print_json(out)
            return
        output([{"key": k, "value": v} for k, v in rule.items() if v not in (None, "")], ("key", "value"),
               as_json=False, title=f"rule {rule_id}")
        for t in analysis["transfers"]:
            typer.echo(f"stuck: {t['scope']}:{t['name']} on {t['rse']} after {t['attempts']} attempts: "
                       f"{t['last_error']}")
        if locks:
            output(out["locks"], ("scope", "name", "rse", "state", "bytes", "error"), as_json=False)

    @rule_app.command("update")
    def update(ctx: typer.Context, rule_id: str, lifetime: int = typer.Option(None, "--lifetime", help="seconds"),
               locked: bool = typer.Option(None, "--locked/--unlocked"), comment: str = typer.Option(None, "--comment"),
               activity: str = typer.Option(None, "--activity"), priority: int = typer.Option(None, "--priority"),
               suspend: bool = typer.Option(False, "--suspend"), resume: bool = typer.Option(False, "--resume"),
               boost: bool = typer.Option(False, "--boost", help="retry a STUCK rule now"),
               server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Change a rule: lifetime, lock, comment, activity, priority, suspend/resume, boost."""
        options: dict[str, Any] = {k: v for k, v in (("lifetime", lifetime), ("locked", locked), ("comment", comment),
                                                      ("activity", activity), ("priority", priority)) if v is not None}
        if suspend:
            options["state"] = "SUSPENDED"
        if resume:
            options["state"] = "REPLICATING"
        if boost:
            options["boost_rule"] = True
        if not options:
            raise InvalidInput("nothing to update: give --lifetime, --locked, --comment, --suspend, ...")
        client = rules_client(ctx, server, token)
        client.update(rule_id, **options)
        output([_row(client.get(rule_id))], RULE_COLUMNS, as_json=as_json)

    @rule_app.command("delete")
    def delete(ctx: typer.Context, rule_id: str,
               purge: bool = typer.Option(False, "--purge", help="delete the replicas at once"),
               server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Remove a rule: its locks go, replicas nobody holds get a tombstone."""
        rules_client(ctx, server, token).delete(rule_id, purge_replicas=purge or None)
        output([{"id": rule_id, "deleted": True}], ("id", "deleted"), as_json=as_json)

    @sub_app.command("add")
    def sub_add(ctx: typer.Context, name: str,
                filter_: str = typer.Option(..., "--filter", help='JSON, e.g. \'{"scope": ["belle"], "datatype": ["RAW"]}\''),
                rules: str = typer.Option(None, "--rules", help="JSON list of rule templates"),
                raw_policy: bool = typer.Option(False, "--raw-policy", help="Belle II RAW: KEK tape + one RAW centre"),
                tier0: str = typer.Option("KEK-TAPE", "--tier0", help="with --raw-policy: the tier 0 tape RSE"),
                account: str = typer.Option(None, "--account", help="owner (default: you)"),
                comment: str = typer.Option(None, "--comment"),
                server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """Add a subscription: new DIDs matching the filter get the rules."""
        from onegrid.catalog.rules.subscriptions import raw_policy as belle2_raw

        if raw_policy == bool(rules):
            raise InvalidInput("give either --rules or --raw-policy")
        templates = belle2_raw(tier0=tier0) if raw_policy else _json_arg(rules, "--rules")
        client = rules_client(ctx, server, token)
        owner = account or client.t.json("GET", "/accounts/whoami")["account"]
        client.add_subscription(name, owner, _json_arg(filter_, "--filter"), templates, comments=comment)
        output(client.list_subscriptions(owner, name), SUB_COLUMNS, as_json=as_json)

    @sub_app.command("list")
    def sub_list(ctx: typer.Context, account: str = typer.Option(None, "--account"),
                 server: str = ServerOpt, token: str = TokenOpt, as_json: bool = JsonOpt) -> None:
        """List subscriptions."""
        output(rules_client(ctx, server, token).list_subscriptions(account), SUB_COLUMNS, as_json=as_json)
