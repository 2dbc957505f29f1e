"""The one place where OneGrid is wired: settings, database, clock, randomness, keys.

The API server, every daemon and the tests build a `Runtime` and hand it down; nothing
below reaches for globals.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from onegrid.clock import Clock, SystemClock
from onegrid.config import Settings
from onegrid.db.engine import is_sqlite, make_engine, make_sessionmaker
from onegrid.iam import keyring
from onegrid.iam.jwks import UNKNOWN_KID_REFETCH_INTERVAL, RemoteJwks
from onegrid.iam.keys import KeyPair, PublicKey


@dataclass
class Runtime:
    settings: Settings
    engine: sa.Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]
    clock: Clock
    rng: random.Random
    remote_jwks: RemoteJwks
    _keys: list[KeyPair] = field(default_factory=list)
    _keys_loaded_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def create(
        cls, settings: Settings, *, clock: Clock | None = None, rng: random.Random | None = None
    ) -> Runtime:
        clock = clock or SystemClock()
        url = settings.effective_database_url
        engine = make_engine(url)
        reader = make_engine(url, immediate=False) if is_sqlite(url) else engine
        return cls(
            settings=settings,
            engine=engine,
            sessions=make_sessionmaker(engine),
            read_sessions=make_sessionmaker(reader),
            clock=clock,
            rng=rng or random.Random(),
            remote_jwks=RemoteJwks(clock, cache_seconds=settings.iam.jwks_cache_seconds),
        )

    @property
    def issuer(self) -> str:
        return self.settings.server_url

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """One unit of work: commits on success, rolls back on any exception."""
        with self.sessions.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session that does not hold SQLite's write lock (long listings)."""
        with self.read_sessions() as session:
            yield session

    # -- our own signing keys -------------------------------------------------------

    def load_keys(self) -> list[KeyPair]:
        with self.transaction() as session:
            keyring.ensure_signing_key(
                session,
                self.clock,
                alg=self.settings.iam.signing_alg,
                rotation_days=self.settings.iam.key_rotation_days,
            )
            keys = keyring.active_keys(session)
        with self._lock:
            self._keys = keys
            self._keys_loaded_at = self.clock.monotonic()
        return keys

    def signing_key(self) -> KeyPair:
        keys = self._keys or self.load_keys()
        return keys[0]

    def verification_keys(self) -> list[KeyPair]:
        return self._keys or self.load_keys()

    def resolve_key(self, issuer: str, kid: str) -> PublicKey | None:
        if issuer != self.issuer:
            return self.remote_jwks.resolve(issuer, kid)
        for key in self.verification_keys():
            if key.kid == kid:
                return key.public
        # Another server replica may have rotated; look again, but not on every request.
        if self.clock.monotonic() - self._keys_loaded_at > UNKNOWN_KID_REFETCH_INTERVAL:
            for key in self.load_keys():
                if key.kid == kid:
                    return key.public
        return None

    def close(self) -> None:
        self.engine.dispose()
