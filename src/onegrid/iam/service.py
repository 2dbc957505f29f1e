"""IAM operations: accounts, identities, groups and memberships. Each takes a session."""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, InvalidInput, NotFound
from onegrid.iam.passwords import hash_password
from onegrid.iam.tables import (
    Account,
    AccountStatus,
    AccountType,
    Group,
    Identity,
    IdentityKind,
    Membership,
)

ACCOUNT_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
GROUP_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")


def create_account(
    session: Session, clock: Clock, name: str, type: AccountType = AccountType.USER, email: str | None = None
) -> Account:
    if not ACCOUNT_NAME.match(name):
        raise InvalidInput(f"account name {name!r} must be lower-case letters, digits, '_', '.', '-'")
    if session.get(Account, name) is not None:
        raise AlreadyExists(f"account {name} already exists")
    account = Account(name=name, type=type, status=AccountStatus.ACTIVE, email=email, created_at=clock.now())
    session.add(account)
    session.flush()
    return account


def get_account(session: Session, name: str) -> Account:
    account = session.get(Account, name)
    if account is None:
        raise NotFound(f"account {name} does not exist")
    return account


def set_password(session: Session, clock: Clock, account: str, username: str, password: str) -> Identity:
    get_account(session, account)
    if len(password) < 8:
        raise InvalidInput("password must have at least 8 characters")
    existing = session.scalars(
        sa.select(Identity).where(Identity.kind == IdentityKind.USERPASS, Identity.identity == username)
    ).first()
    if existing is not None and existing.account != account:
        raise AlreadyExists(f"username {username} belongs to another account")
    if existing is None:
        existing = Identity(
            account=account, kind=IdentityKind.USERPASS, issuer="", identity=username, created_at=clock.now()
        )
        session.add(existing)
    existing.password_hash = hash_password(password)
    session.flush()
    return existing


def create_group(session: Session, clock: Clock, path: str, *, is_role: bool = False, description: str = "") -> Group:
    if not GROUP_PATH.match(path):
        raise InvalidInput(f"group {path!r} must be a path like /belle/production")
    if session.get(Group, path) is not None:
        raise AlreadyExists(f"group {path} already exists")
    group = Group(path=path, is_role=is_role, description=description, created_at=clock.now())
    session.add(group)
    session.flush()
    return group


def add_member(session: Session, clock: Clock, group: str, account: str) -> None:
    get_account(session, account)
    if session.get(Group, group) is None:
        raise NotFound(f"group {group} does not exist")
    if session.get(Membership, (account, group)) is not None:
        raise AlreadyExists(f"{account} is already a member of {group}")
    session.add(Membership(account=account, group=group, created_at=clock.now()))
    session.flush()


def groups_of(session: Session, account: str, *, roles: bool = False) -> list[str]:
    """Groups of an account, in path order; roles only if asked for."""
    q = sa.select(Group.path).join(Membership, Membership.group == Group.path).where(Membership.account == account)
    if not roles:
        q = q.where(Group.is_role.is_(False))
    return list(session.scalars(q.order_by(Group.path)))


def check_password(session: Session, username: str, password: str) -> Account:
    """The active account a username and password belong to, or Unauthenticated.

    The same message for an unknown user and a wrong password: no account enumeration.
    """
    from onegrid.errors import Unauthenticated
    from onegrid.iam.passwords import verify_password

    identity = session.scalars(
        sa.select(Identity).where(Identity.kind == IdentityKind.USERPASS, Identity.identity == username)
    ).first()
    if identity is None or not identity.password_hash or not verify_password(password, identity.password_hash):
        raise Unauthenticated("wrong username or password")
    account = get_account(session, identity.account)
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthenticated(f"account {account.name} is suspended")
    return account
