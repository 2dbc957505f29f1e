"""Account limits (quotas) per RSE and per RSE expression, and the usage counters they
are checked against. The rules engine calls `add_account_usage` in the same transaction
as the locks it creates or removes."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog import bulk, rses
from onegrid.catalog.rse_expression import validate
from onegrid.catalog.tables import RSE, AccountGlobalLimit, AccountLimit, AccountUsage
from onegrid.clock import Clock
from onegrid.errors import InvalidInput, NotFound, QuotaExceeded
from onegrid.iam.service import get_account


def set_local_limit(session: Session, account: str, rse_name: str, nbytes: int) -> None:
    get_account(session, account)
    rse = rses.get_rse(session, rse_name)
    if nbytes < 0:
        raise InvalidInput("a limit must not be negative")
    row = session.get(AccountLimit, (account, rse.id))
    if row is None:
        session.add(AccountLimit(account=account, rse_id=rse.id, bytes=nbytes))
    else:
        row.bytes = nbytes
    session.flush()


def delete_local_limit(session: Session, account: str, rse_name: str) -> None:
    rse = rses.get_rse(session, rse_name)
    row = session.get(AccountLimit, (account, rse.id))
    if row is None:
        raise NotFound(f"account {account} has no limit on {rse_name}")
    session.delete(row)


def set_global_limit(session: Session, account: str, expression: str, nbytes: int) -> None:
    get_account(session, account)
    validate(expression)
    row = session.get(AccountGlobalLimit, (account, expression))
    if row is None:
        session.add(AccountGlobalLimit(account=account, rse_expression=expression, bytes=nbytes))
    else:
        row.bytes = nbytes
    session.flush()


def local_limits(session: Session, account: str, rse_name: str | None = None) -> dict[str, int]:
    query = sa.select(RSE.name, AccountLimit.bytes).join(RSE, RSE.id == AccountLimit.rse_id).where(AccountLimit.account == account)
    if rse_name:
        query = query.where(RSE.name == rse_name)
    return dict(session.execute(query).all())


def global_limits(session: Session, account: str) -> dict[str, int]:
    return dict(session.execute(sa.select(AccountGlobalLimit.rse_expression, AccountGlobalLimit.bytes)
                                .where(AccountGlobalLimit.account == account)).all())


def add_account_usage(session: Session, clock: Clock, account: str, rse_id: int, files: int, nbytes: int) -> None:
    """Move an account's counters on one RSE (negative to release). Same transaction as the caller."""
    bulk.add_to_counters(session, AccountUsage.__table__, {"account": account, "rse_id": rse_id},
                         {"files": files, "bytes": nbytes}, {"updated_at": clock.now()})


def local_usage(session: Session, account: str, rse_name: str | None = None) -> list[dict[str, Any]]:
    """Per RSE where the account has a limit or usage: bytes used, the limit, what is left."""
    limits = local_limits(session, account)
    used = {name: (rse_id, files, nbytes) for name, rse_id, files, nbytes in session.execute(
        sa.select(RSE.name, RSE.id, AccountUsage.files, AccountUsage.bytes)
        .join(RSE, RSE.id == AccountUsage.rse_id).where(AccountUsage.account == account))}
    ids = dict(session.execute(sa.select(RSE.name, RSE.id).where(RSE.name.in_(limits.keys()))).all())
    out = []
    for name in sorted(limits.keys() | used.keys()):
        if rse_name and name != rse_name:
            continue
        rse_id, files, nbytes = used.get(name, (ids.get(name), 0, 0))
        limit = limits.get(name)
        out.append({"rse": name, "rse_id": str(rse_id), "files": files, "bytes": nbytes, "bytes_limit": limit,
                    "bytes_remaining": None if limit is None else limit - nbytes})
    return out


def global_usage(session: Session, account: str) -> list[dict[str, Any]]:
    """Per expression limit: the account's usage summed over the RSEs it selects."""
    used = {name: (files, nbytes) for name, files, nbytes in session.execute(
        sa.select(RSE.name, AccountUsage.files, AccountUsage.bytes)
        .join(RSE, RSE.id == AccountUsage.rse_id).where(AccountUsage.account == account))}
    out = []
    for expression, limit in sorted(global_limits(session, account).items()):
        selected = rses.resolve_expression(session, expression, allow_empty=True)
        files = sum(used.get(n, (0, 0))[0] for n in selected)
        nbytes = sum(used.get(n, (0, 0))[1] for n in selected)
        out.append({"rse_expression": expression, "files": files, "bytes": nbytes, "bytes_limit": limit,
                    "bytes_remaining": limit - nbytes})
    return out


def check_quota(session: Session, account: str, rse_id: int, extra_bytes: int) -> None:
    """Raise QuotaExceeded if `extra_bytes` more on the RSE would pass a local limit."""
    name = session.scalar(sa.select(RSE.name).where(RSE.id == rse_id))
    limit = session.get(AccountLimit, (account, rse_id))
    if limit is None:
        return
    used = session.scalar(sa.select(AccountUsage.bytes).where(AccountUsage.account == account,
                                                               AccountUsage.rse_id == rse_id)) or 0
    if used + extra_bytes > limit.bytes:
        raise QuotaExceeded(f"account {account} would use {used + extra_bytes} bytes on {name}, its limit is {limit.bytes}")
