"""Client calls of replication rules and subscriptions (Rucio's REST API on the server).

Importing `onegrid.catalog.rules.errors` registers the rule errors, so a refused rule is
raised here as the same class the server raised (`InsufficientTargetRSEs`, ...)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

import onegrid.catalog.rules.errors  # noqa: F401  (error classes for the wire codes)
from onegrid.client.base import Transport

__all__ = ["RulesClient"]


class RulesClient:
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def add(self, dids: Sequence[Mapping[str, str]], copies: int, rse_expression: str, **options: Any) -> list[str]:
        """Make one rule per DID; returns the rule ids. Options as Rucio's: grouping,
        weight, lifetime, locked, source_replica_expression, activity, notify,
        purge_replicas, comment, priority, asynchronous, account."""
        body = {"dids": [dict(d) for d in dids], "copies": copies, "rse_expression": rse_expression,
                **{k: v for k, v in options.items() if v is not None}}
        return self.t.json("POST", "/rules/", content=json.dumps(body))  # type: ignore[no-any-return]

    def get(self, rule_id: str) -> dict[str, Any]:
        return self.t.json("GET", f"/rules/{rule_id}")  # type: ignore[no-any-return]

    def list(self, **filters: Any) -> Iterator[dict[str, Any]]:
        params = {k: str(v) for k, v in filters.items() if v is not None}
        return self.t.stream_lines("GET", "/rules/", params=params)

    def of_did(self, scope: str, name: str) -> Iterator[dict[str, Any]]:
        return self.t.stream_lines("GET", f"/dids/{quote_plus(scope)}/{quote_plus(name)}/rules")

    def update(self, rule_id: str, **options: Any) -> None:
        self.t.request("PUT", f"/rules/{rule_id}", content=json.dumps({"options": options}))

    def delete(self, rule_id: str, *, purge_replicas: bool | None = None) -> None:
        self.t.request("DELETE", f"/rules/{rule_id}", content=json.dumps({"purge_replicas": purge_replicas}))

    def locks(self, rule_id: str) -> Iterator[dict[str, Any]]:
        return self.t.stream_lines("GET", f"/rules/{rule_id}/locks")

    def analysis(self, rule_id: str) -> dict[str, Any]:
        """Why a rule is not OK: its error and the last error of each stuck transfer."""
        return self.t.json("GET", f"/rules/{rule_id}/analysis")  # type: ignore[no-any-return]

    # -- subscriptions -----------------------------------------------------------------

    def add_subscription(self, name: str, account: str, filter_: Mapping[str, Any],
                         rules: Sequence[Mapping[str, Any]], *, comments: str | None = None,
                         lifetime: int | None = None, priority: int = 3) -> str:
        options = {"filter": dict(filter_), "replication_rules": [dict(r) for r in rules], "comments": comments,
                   "lifetime": lifetime, "retroactive": False, "dry_run": False, "priority": priority}
        return self.t.request("POST", f"/subscriptions/{account}/{name}",
                              content=json.dumps({"options": options})).text

    def list_subscriptions(self, account: str | None = None, name: str | None = None) -> list[dict[str, Any]]:
        from onegrid.errors import NotFound

        if account and name:
            path = f"/subscriptions/{account}/{name}"
        elif account:
            path = f"/subscriptions/{account}"
        else:
            path = f"/subscriptions/name/{name}" if name else "/subscriptions/"
        try:
            return list(self.t.stream_lines("GET", path))
        except NotFound:
            return []

    def update_subscription(self, name: str, account: str, **options: Any) -> None:
        self.t.request("PUT", f"/subscriptions/{account}/{name}", content=json.dumps({"options": options}))
