"""Scopes: the namespaces of DIDs, each owned by an account."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog.errors import ScopeNotFound
from onegrid.catalog.tables import Scope
from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, InvalidInput
from onegrid.iam.service import get_account

SCOPE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")



def add_scope(session: Session, clock: Clock, scope: str, account: str) -> Scope:
    if not SCOPE_NAME.match(scope):
        raise InvalidInput(f"scope {scope!r} must be 1-64 letters, digits, '_', '.' or '-'")
    get_account(session, account)
    if session.get(Scope, scope) is not None:
        raise AlreadyExists(f"scope {scope} already exists")
    row = Scope(scope=scope, account=account, created_at=clock.now())
    session.add(row)
    session.flush()
    return row


def account_exists(session: Session, account: str) -> bool:
    from onegrid.iam.tables import Account

    return session.get(Account, account) is not None


def ensure_user_scope(session: Session, clock: Clock, account: str) -> None:
    """`user.<account>` for each user, made on first use."""
    if session.get(Scope, f"user.{account}") is None:
        add_scope(session, clock, f"user.{account}", account)


def get_scope(session: Session, scope: str) -> Scope:
    row = session.get(Scope, scope)
    if row is None:
        raise ScopeNotFound(f"scope {scope} does not exist")
    return row


def list_scopes(session: Session, account: str | None = None) -> list[Scope]:
    query = sa.select(Scope).order_by(Scope.scope)
    if account:
        query = query.where(Scope.account == account)
    return list(session.scalars(query))
