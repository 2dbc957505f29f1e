"""Our own signing keys, kept in the database: made on first start, rotated by age."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.clock import Clock, utc
from onegrid.iam.keys import KeyPair, generate_key, load_key
from onegrid.iam.tables import SigningKey


def active_keys(session: Session) -> list[KeyPair]:
    """Every unretired key, newest first: the first signs, all verify."""
    rows = session.scalars(
        sa.select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc())
    )
    return [load_key(r.kid, r.alg, r.private_pem) for r in rows]


def add_key(session: Session, clock: Clock, alg: str) -> KeyPair:
    key = generate_key(alg)
    session.add(SigningKey(kid=key.kid, alg=alg, private_pem=key.private_pem(), created_at=clock.now()))
    session.flush()
    return key


def ensure_signing_key(session: Session, clock: Clock, *, alg: str, rotation_days: int) -> KeyPair:
    """The key to sign with; a new one when there is none, or the newest is too old or
    of another algorithm than configured. Older keys stay published for verification."""
    newest = session.scalars(
        sa.select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.created_at.desc())
    ).first()
    if newest is None or newest.alg != alg or utc(newest.created_at) + timedelta(days=rotation_days) < clock.now():
        return add_key(session, clock, alg)
    return load_key(newest.kid, newest.alg, newest.private_pem)


def retire_key(session: Session, clock: Clock, kid: str) -> None:
    session.execute(sa.update(SigningKey).where(SigningKey.kid == kid).values(retired_at=clock.now()))


def list_keys(session: Session) -> list[SigningKey]:
    """Every key, newest first, retired ones included (for operators)."""
    return list(session.scalars(sa.select(SigningKey).order_by(SigningKey.created_at.desc())))


def rotate(session: Session, clock: Clock, *, alg: str, retire_after: int) -> tuple[KeyPair, list[str]]:
    """Make a new signing key, and retire the keys that can no longer have live tokens.

    A key stops signing when a newer one is made; the tokens it signed live at most the
    longest token lifetime after that, so it is retired once the key after it is older
    than `retire_after` seconds. Until then it stays published in /jwks and verifies.
    """
    new = add_key(session, clock, alg)
    rows = list_keys(session)
    retired: list[str] = []
    now = clock.now()
    for newer, older in zip(rows, rows[1:], strict=False):
        if older.retired_at is None and utc(newer.created_at) + timedelta(seconds=retire_after) < now:
            older.retired_at = now
            retired.append(older.kid)
    session.flush()
    return new, retired
