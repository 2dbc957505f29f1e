"""Scope policies: DENY beats PERMIT, account level before group level, path semantics."""

from __future__ import annotations

from onegrid.iam.policies import PolicyView, filter_scopes, is_permitted
from onegrid.iam.scopes import parse_scope, parse_scopes
from onegrid.iam.tables import MatchingPolicy, PolicyRule

PERMIT, DENY = PolicyRule.PERMIT, PolicyRule.DENY
PATH, EQ, REGEXP = MatchingPolicy.PATH, MatchingPolicy.EQ, MatchingPolicy.REGEXP
DEFAULTS = parse_scopes("compute.read compute.create storage.read:/")


def p(rule: PolicyRule, *scopes: str, matching: MatchingPolicy = PATH) -> PolicyView:
    return PolicyView(rule=rule, matching=matching, scopes=scopes)


def allowed(scope: str, account: list[PolicyView] = (), group: list[PolicyView] = ()) -> bool:  # type: ignore[assignment]
    return is_permitted(parse_scope(scope), account_policies=list(account), group_policies=list(group),
                        default_grants=DEFAULTS)


def test_deny_beats_permit_at_one_level() -> None:
    group = [p(PERMIT, "storage.modify:/belle"), p(DENY, "storage.modify:/belle/raw")]
    assert allowed("storage.modify:/belle/user/x", group=group)
    assert not allowed("storage.modify:/belle/raw/run1", group=group)
    # A wider request would reach into the denied path: refused as a whole.
    assert not allowed("storage.modify:/belle", group=group)
    # storage.create is carried by storage.modify; a denied create refuses modify too.
    assert not allowed("storage.modify:/belle/x", group=[p(PERMIT, "storage.modify:/belle"),
                                                         p(DENY, "storage.create:/belle/x")])


def test_account_policies_come_before_group_policies() -> None:
    group = [p(DENY, "storage.read:/belle/secret")]
    account = [p(PERMIT, "storage.read:/belle/secret")]
    assert allowed("storage.read:/belle/secret/f", account=account, group=group)
    assert not allowed("storage.read:/belle/secret/f", group=group)


def test_default_policy_grants_only_configured_capabilities() -> None:
    assert allowed("storage.read:/belle/data")
    assert allowed("compute.create")
    assert not allowed("storage.modify:/belle")
    assert not allowed("compute.cancel")
    assert allowed("openid") and allowed("offline_access")


def test_path_matching_follows_the_profile() -> None:
    group = [p(PERMIT, "storage.create:/belle/user/alice")]
    assert allowed("storage.create:/belle/user/alice/f.root", group=group)
    assert not allowed("storage.create:/belle/user/alicex", group=group)
    assert not allowed("storage.create:/belle/user", group=group)


def test_eq_and_regexp_matching() -> None:
    assert allowed("compute.cancel", group=[p(PERMIT, "compute.cancel", matching=EQ)])
    assert not allowed("storage.read:/x", account=[p(DENY, r"storage\.read:/.*", matching=REGEXP)])
    assert allowed("storage.stage:/belle/raw", group=[p(PERMIT, r"storage\.stage:/belle/.*", matching=REGEXP)])


def test_filter_scopes_returns_what_is_allowed_in_request_order() -> None:
    granted, refused = filter_scopes(
        parse_scopes("storage.modify:/belle/raw storage.read:/belle compute.create compute.create"),
        account_policies=[], group_policies=[p(DENY, "storage.read:/belle/secret")], default_grants=DEFAULTS)
    assert [str(s) for s in granted] == ["compute.create"]
    assert [str(s) for s in refused] == ["storage.modify:/belle/raw", "storage.read:/belle"]
