"""Shared fixtures: a migrated database on SQLite (and PostgreSQL when
ONEGRID_TEST_POSTGRES_URL is set), a runtime, a live server on loopback, accounts, tokens."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from gridtest import LiveServer, free_port, make_settings, run_cli, serve_in_thread  # noqa: F401
from onegrid.clock import ManualClock, SystemClock
from onegrid.config import Settings
from onegrid.db.engine import normalize_url
from onegrid.db.migrate import upgrade
from onegrid.iam.tables import AccountType
from onegrid.runtime import Runtime

POSTGRES_URL = os.environ.get("ONEGRID_TEST_POSTGRES_URL")
DB_BACKENDS = ["sqlite", "postgres"] if POSTGRES_URL else ["sqlite"]


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


