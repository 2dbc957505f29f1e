"""IAM operations: accounts, identities, groups, memberships and client secrets.

Each takes a session (the caller's transaction) and, where it writes, the clock.
"""

from __future__ import annotations

import re
import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, Conflict, InvalidInput, NotFound, Unauthenticated
from onegrid.iam.passwords import hash_password, verify_password
from onegrid.iam.tables import (
    Account,
    AccountStatus,
    AccountType,
    ClientSecret,
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
    identity = session.scalars(
        sa.select(Identity).where(Identity.kind == IdentityKind.USERPASS, Identity.identity == username)
    ).first()
    if identity is None or not identity.password_hash or not verify_password(password, identity.password_hash):
        raise Unauthenticated("wrong username or password")
    account = get_account(session, identity.account)
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthenticated(f"account {account.name} is suspended")
    return account


# -- administration ------------------------------------------------------------------


def list_accounts(session: Session, *, type: AccountType | None = None) -> list[Account]:
    q = sa.select(Account).order_by(Account.name)
    if type is not None:
        q = q.where(Account.type == type)
    return list(session.scalars(q))


def set_status(session: Session, clock: Clock, name: str, status: AccountStatus) -> Account:
    """Suspend or reactivate an account. A suspended account's tokens stop working at once
    (every request checks the status) and it gets no new ones."""
    account = get_account(session, name)
    if account.type is AccountType.ROOT and status is AccountStatus.SUSPENDED:
        raise Conflict("the root account cannot be suspended")
    account.status = status
    account.suspended_at = clock.now() if status is AccountStatus.SUSPENDED else None
    session.flush()
    return account


def usernames_of(session: Session, account: str) -> list[str]:
    return list(session.scalars(
        sa.select(Identity.identity).where(Identity.account == account, Identity.kind == IdentityKind.USERPASS)
        .order_by(Identity.identity)
    ))


def get_group(session: Session, path: str) -> Group:
    group = session.get(Group, path)
    if group is None:
        raise NotFound(f"group {path} does not exist")
    return group


def list_groups(session: Session, *, under: str | None = None) -> list[tuple[Group, int]]:
    """Groups (with their member counts), optionally only those under a path."""
    counts = (sa.select(Membership.group, sa.func.count().label("n")).group_by(Membership.group).subquery())
    q = sa.select(Group, sa.func.coalesce(counts.c.n, 0)).outerjoin(counts, counts.c.group == Group.path)
    if under:
        q = q.where(sa.or_(Group.path == under, Group.path.startswith(under.rstrip("/") + "/", autoescape=True)))
    return [(g, int(n)) for g, n in session.execute(q.order_by(Group.path))]


def members_of(session: Session, group: str) -> list[str]:
    get_group(session, group)
    return list(session.scalars(
        sa.select(Membership.account).where(Membership.group == group).order_by(Membership.account)))


def remove_member(session: Session, group: str, account: str) -> None:
    membership = session.get(Membership, (account, group))
    if membership is None:
        raise NotFound(f"{account} is not a member of {group}")
    session.delete(membership)
    session.flush()


def vo_of(group: str) -> str:
    """The VO a group belongs to: its first path element (`/belle/production` → `/belle`)."""
    return "/" + group.strip("/").split("/")[0]


def administered_vos(session: Session, account: str, admin_group: str = "admin") -> set[str]:
    """The VOs whose admin group (`/<vo>/admin`) the account is a member of."""
    suffix = "/" + admin_group
    return {vo_of(g) for g in groups_of(session, account, roles=True)
            if g.endswith(suffix) and g.count("/") == 2}


# -- client secrets of service accounts ------------------------------------------------


def create_client_secret(session: Session, clock: Clock, account: str, description: str = "") -> str:
    """A new random secret for `client_credentials`; only its hash is stored, so this is
    the one moment it can be seen."""
    target = get_account(session, account)
    if target.type is not AccountType.SERVICE:
        raise InvalidInput(f"account {account} is {target.type.value}; only SERVICE accounts get client secrets")
    secret = secrets.token_urlsafe(32)
    session.add(ClientSecret(account=account, secret_hash=hash_password(secret), description=description,
                             created_at=clock.now()))
    session.flush()
    return secret


def check_client_secret(session: Session, client_id: str, secret: str) -> Account:
    """The active SERVICE account a client id and secret belong to, or Unauthenticated."""
    account = session.get(Account, client_id)
    hashes = session.scalars(sa.select(ClientSecret.secret_hash).where(ClientSecret.account == client_id))
    if account is None or not any(verify_password(secret, h) for h in hashes):
        raise Unauthenticated("wrong client id or client secret")
    if account.type is not AccountType.SERVICE:
        raise Unauthenticated(f"account {client_id} is not a SERVICE account")
    if account.status is not AccountStatus.ACTIVE:
        raise Unauthenticated(f"account {client_id} is suspended")
    return account


def add_external_identity(session: Session, clock: Clock, account: str, issuer: str, subject: str) -> Identity:
    """Let a trusted external issuer's subject act as `account` (its tokens are accepted)."""
    get_account(session, account)
    identity = Identity(account=account, kind=IdentityKind.OIDC, issuer=issuer.rstrip("/"), identity=subject,
                        created_at=clock.now())
    session.add(identity)
    session.flush()
    return identity
