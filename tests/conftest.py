"""Shared fixtures: a migrated database on SQLite (and PostgreSQL when
ONEGRID_TEST_POSTGRES_URL is set), a runtime, a live server on loopback, accounts, tokens."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
import uvicorn

from onegrid.api import create_app
from onegrid.clock import Clock, ManualClock, SystemClock
from onegrid.config import Settings
from onegrid.db.engine import normalize_url
from onegrid.db.migrate import upgrade
from onegrid.iam import service as iam
from onegrid.iam.tables import AccountType
from onegrid.iam.tokens import issue_token
from onegrid.runtime import Runtime

POSTGRES_URL = os.environ.get("ONEGRID_TEST_POSTGRES_URL")
DB_BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- databases -----------------------------------------------------------------------


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    upgrade(f"sqlite:///{path}")
    return path


def _pg_admin() -> sa.Engine:
    assert POSTGRES_URL
    return sa.create_engine(normalize_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")


def _pg_url(dbname: str) -> str:
    assert POSTGRES_URL
    return normalize_url(str(sa.engine.make_url(normalize_url(POSTGRES_URL)).set(database=dbname).render_as_string(hide_password=False)))


@pytest.fixture(scope="session")
def _pg_template() -> Iterator[str]:
    name = f"onegrid_tpl_{os.getpid()}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    upgrade(_pg_url(name))
    yield name
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(params=DB_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, fully migrated database for one test."""
    if request.param == "sqlite":
        path = tmp_path / "onegrid.db"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    template = request.getfixturevalue("_pg_template")
    name = f"onegrid_t_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


# -- runtime -------------------------------------------------------------------------


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


def make_settings(db_url: str, data_dir: Path, server_url: str = "http://127.0.0.1:8080", **extra: object) -> Settings:
    return Settings(data_dir=data_dir, database_url=db_url, server_url=server_url, **extra)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return make_settings(db_url, tmp_path / "data")


@pytest.fixture
def runtime(settings: Settings, clock: ManualClock) -> Iterator[Runtime]:
    """A runtime on a virtual clock, for service-level tests."""
    rt = Runtime.create(settings, clock=clock)
    rt.load_keys()
    yield rt
    rt.close()


# -- a live server on loopback --------------------------------------------------------


@dataclass
class LiveServer:
    url: str
    runtime: Runtime

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    def add_account(
        self, name: str, *, type: AccountType = AccountType.USER, password: str | None = None,
        groups: tuple[str, ...] = (),
    ) -> str:
        with self.runtime.transaction() as session:
            iam.create_account(session, self.clock, name, type)
            if password:
                iam.set_password(session, self.clock, name, name, password)
            for g in groups:
                from onegrid.iam.tables import Group

                if session.get(Group, g) is None:
                    iam.create_group(session, self.clock, g)
                iam.add_member(session, self.clock, g, name)
        return name

    def token(
        self, account: str, *, scopes: tuple[str, ...] | list[str] = (), groups: tuple[str, ...] | list[str] = (),
        audience: str | None = None, lifetime: int = 3600,
    ) -> str:
        return issue_token(
            self.runtime.signing_key(), issuer=self.url, subject=account, audience=audience or self.url,
            scopes=scopes, groups=groups, lifetime=lifetime, clock=self.clock,
        )

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)


def serve_in_thread(runtime: Runtime, port: int) -> Callable[[], None]:
    config = uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return stop


@pytest.fixture
def live_server(db_url: str, tmp_path: Path) -> Iterator[LiveServer]:
    """`onegrid server`'s app on a free loopback port, in this process, on the wall clock."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rt = Runtime.create(make_settings(db_url, tmp_path / "data", url), clock=SystemClock())
    stop = serve_in_thread(rt, port)
    server = LiveServer(url=url, runtime=rt)
    server.add_account("root", type=AccountType.ROOT, password="root-password")
    yield server
    stop()
    rt.close()


@pytest.fixture
def root_token(live_server: LiveServer) -> str:
    return live_server.token("root")


# -- the CLI as a user runs it ----------------------------------------------------------


def run_cli(*args: str, env: dict[str, str] | None = None, check: bool = True, timeout: float = 120,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run `onegrid ARGS` in a subprocess, as a user would."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "onegrid", *args], env=full_env, capture_output=True, text=True,
        timeout=timeout, input=input,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"onegrid {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc
