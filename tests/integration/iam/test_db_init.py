"""`onegrid db init` creates the root account once; a second run changes nothing."""

from __future__ import annotations

from gridtest import run_cli
from onegrid.config import Settings
from onegrid.db.engine import make_engine
from onegrid.db.migrate import is_up_to_date
from onegrid.iam.service import check_password
from onegrid.runtime import Runtime


def test_db_init_twice_on_an_empty_database(db_url, tmp_path) -> None:
    if db_url.startswith("sqlite"):
        db_url = f"sqlite:///{tmp_path}/fresh.db"  # from nothing, not from the template
    env = {"ONEGRID_DATABASE_URL": db_url, "ONEGRID_DATA_DIR": str(tmp_path / "data")}
    first = run_cli("db", "init", "--root-password", "first-password", env=env)
    assert "root account 'root' created" in first.stdout
    second = run_cli("db", "init", "--root-password", "other-password", env=env)
    assert "nothing changed" in second.stdout
    engine = make_engine(db_url)
    assert is_up_to_date(engine)
    engine.dispose()
    rt = Runtime.create(Settings(database_url=db_url, data_dir=tmp_path / "data"))
    try:
        with rt.transaction() as session:
            assert check_password(session, "root", "first-password").name == "root"
        assert len(rt.load_keys()) == 1  # the signing key made at init is kept
    finally:
        rt.close()
