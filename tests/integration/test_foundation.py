from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from onegrid.db.engine import make_engine
from onegrid.db.migrate import is_up_to_date
from onegrid.db.registry import metadata


def test_migrated_schema_matches_the_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    assert is_up_to_date(engine)
    with engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": False}), metadata)
    engine.dispose()
    assert diffs == []


def test_health_and_error_shape(live_server) -> None:
    with live_server.client() as http:
        assert http.get("/health").json()["status"] == "ok"
        r = http.get("/whoami")
        assert r.status_code == 401
        assert r.json()["error"] == "UNAUTHENTICATED"
        r = http.get("/no/such/route")
        assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND"


def test_whoami_with_a_token(live_server, root_token) -> None:
    with live_server.client(root_token) as http:
        r = http.get("/whoami")
    assert r.status_code == 200, r.text
    assert r.json()["account"] == "root"


def test_sqlite_is_in_wal_mode(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
    engine.dispose()
