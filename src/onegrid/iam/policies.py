"""Scope policies: which scopes an account may receive (pure; INDIGO IAM's model, SPECS §5).

A policy is `{rule: PERMIT|DENY, matching: EQ|PATH|REGEXP, scopes}` attached to an account
or a group. For each requested scope, as IAM does:

1. the account's own policies decide, if any of them matches the scope;
2. else the policies of the account's groups decide, if any matches;
3. else the default policy: scopes that are not capabilities (`openid`, `offline_access`,
   `wlcg.groups`, ...) are permitted, capabilities (`storage.*`, `compute.*`) only if the
   configured default grants cover them.

Within one level DENY beats PERMIT. PATH matching follows the WLCG path semantics: a
PERMIT of `storage.read:/belle` covers `storage.read:/belle/data`; a DENY of
`storage.read:/belle/secret` refuses every request that would reach into that path,
including `storage.read:/belle` and `storage.read:/`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from onegrid.errors import InvalidInput
from onegrid.iam.scopes import COMPUTE_ACTIONS, IMPLIES, STORAGE_ACTIONS, Scope, parse_scope, path_covers
from onegrid.iam.tables import MatchingPolicy, PolicyRule


@dataclass(frozen=True)
class PolicyView:
    """A policy as plain data (the rows of `scope_policies`, without the database)."""

    rule: PolicyRule
    matching: MatchingPolicy
    scopes: tuple[str, ...]


def is_capability(scope: Scope) -> bool:
    return scope.action in STORAGE_ACTIONS or scope.action in COMPUTE_ACTIONS


def validate_policy_scopes(matching: MatchingPolicy, scopes: Sequence[str]) -> None:
    """Refuse a policy that could never match what it says (bad regexp, relative path)."""
    if not scopes:
        raise InvalidInput("a policy needs at least one scope")
    for text in scopes:
        if matching is MatchingPolicy.REGEXP:
            try:
                re.compile(text)
            except re.error as exc:
                raise InvalidInput(f"policy scope {text!r} is not a valid regular expression: {exc}") from exc
        elif matching is MatchingPolicy.PATH:
            parse_scope(text)


def _actions_related(a: str, b: str) -> bool:
    return a == b or b in IMPLIES.get(a, ()) or a in IMPLIES.get(b, ())


def _matches(policy: PolicyView, pattern: str, wanted: Scope) -> bool:
    text = str(wanted)
    if policy.matching is MatchingPolicy.EQ:
        return pattern == text
    if policy.matching is MatchingPolicy.REGEXP:
        return re.fullmatch(pattern, text) is not None
    granted = parse_scope(pattern)
    if policy.rule is PolicyRule.PERMIT:
        return granted.covers(wanted)
    # A DENY matches any request that overlaps it: a scope on a parent path would reach
    # into the denied path, and storage.modify would carry a denied storage.create.
    if not _actions_related(granted.action, wanted.action):
        return False
    if granted.path is None or wanted.path is None:
        return granted.path == wanted.path
    if not wanted.path.startswith("/") or not granted.path.startswith("/"):
        return granted.path == wanted.path
    return path_covers(granted.path, wanted.path) or path_covers(wanted.path, granted.path)


def level_decision(policies: Iterable[PolicyView], wanted: Scope) -> PolicyRule | None:
    """DENY if a DENY matches, else PERMIT if a PERMIT matches, else no decision."""
    permitted = False
    for policy in policies:
        if any(_matches(policy, pattern, wanted) for pattern in policy.scopes):
            if policy.rule is PolicyRule.DENY:
                return PolicyRule.DENY
            permitted = True
    return PolicyRule.PERMIT if permitted else None


def is_permitted(
    wanted: Scope,
    *,
    account_policies: Sequence[PolicyView],
    group_policies: Sequence[PolicyView],
    default_grants: Sequence[Scope],
) -> bool:
    for level in (account_policies, group_policies):
        decision = level_decision(level, wanted)
        if decision is not None:
            return decision is PolicyRule.PERMIT
    if not is_capability(wanted):
        return True
    return any(g.covers(wanted) for g in default_grants)


def filter_scopes(
    requested: Sequence[Scope],
    *,
    account_policies: Sequence[PolicyView],
    group_policies: Sequence[PolicyView],
    default_grants: Sequence[Scope],
) -> tuple[list[Scope], list[Scope]]:
    """(granted, refused) in request order; duplicates collapse to one."""
    granted: list[Scope] = []
    refused: list[Scope] = []
    for wanted in dict.fromkeys(requested):
        ok = is_permitted(wanted, account_policies=account_policies, group_policies=group_policies,
                          default_grants=default_grants)
        (granted if ok else refused).append(wanted)
    return granted, refused
