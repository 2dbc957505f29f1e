"""Scope policies in the database: add, list, delete, and the policies that apply to an account."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import InvalidInput, NotFound
from onegrid.iam import service
from onegrid.iam.policies import PolicyView, validate_policy_scopes
from onegrid.iam.tables import MatchingPolicy, PolicyRule, ScopePolicy


def add_policy(
    session: Session,
    clock: Clock,
    *,
    rule: PolicyRule,
    matching: MatchingPolicy,
    scopes: list[str],
    account: str | None = None,
    group: str | None = None,
    description: str = "",
) -> ScopePolicy:
    if (account is None) == (group is None):
        raise InvalidInput("a policy applies to exactly one of an account or a group")
    if account is not None:
        service.get_account(session, account)
    if group is not None:
        service.get_group(session, group)
    validate_policy_scopes(matching, scopes)
    policy = ScopePolicy(rule=rule, matching=matching, account=account, group=group, scopes=list(scopes),
                         description=description, created_at=clock.now())
    session.add(policy)
    session.flush()
    return policy


def get_policy(session: Session, policy_id: int) -> ScopePolicy:
    policy = session.get(ScopePolicy, policy_id)
    if policy is None:
        raise NotFound(f"scope policy {policy_id} does not exist")
    return policy


def list_policies(session: Session, *, account: str | None = None, group: str | None = None) -> list[ScopePolicy]:
    q = sa.select(ScopePolicy).order_by(ScopePolicy.id)
    if account is not None:
        q = q.where(ScopePolicy.account == account)
    if group is not None:
        q = q.where(ScopePolicy.group == group)
    return list(session.scalars(q))


def delete_policy(session: Session, policy_id: int) -> None:
    session.delete(get_policy(session, policy_id))
    session.flush()


def _view(p: ScopePolicy) -> PolicyView:
    return PolicyView(rule=p.rule, matching=p.matching, scopes=tuple(p.scopes))


def policies_for(session: Session, account: str) -> tuple[list[PolicyView], list[PolicyView]]:
    """(the account's own policies, the policies of every group it is a member of)."""
    own = session.scalars(sa.select(ScopePolicy).where(ScopePolicy.account == account))
    groups = service.groups_of(session, account, roles=True)
    of_groups = session.scalars(sa.select(ScopePolicy).where(ScopePolicy.group.in_(groups))) if groups else []
    return [_view(p) for p in own], [_view(p) for p in of_groups]
