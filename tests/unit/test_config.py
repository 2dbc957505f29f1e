from __future__ import annotations

from pathlib import Path

import pytest

from onegrid.config import load_settings
from onegrid.errors import InvalidInput


def test_environment_beats_file_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "onegrid.toml"
    cfg.write_text('server_url = "http://file:1/"\nlog_level = "DEBUG"\n[iam]\naccess_token_lifetime = 1800\n')
    monkeypatch.setenv("ONEGRID_LOG_LEVEL", "WARNING")
    s = load_settings(cfg)
    assert s.server_url == "http://file:1"
    assert s.log_level == "WARNING"
    assert s.iam.access_token_lifetime == 1800


def test_nested_environment_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_IAM__SIGNING_ALG", "RS256")
    assert load_settings().iam.signing_alg == "RS256"


def test_database_defaults_to_sqlite_in_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONEGRID_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("ONEGRID_DATABASE_URL", raising=False)
    assert load_settings().effective_database_url == f"sqlite:///{tmp_path}/onegrid.db"


def test_missing_or_broken_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="does not exist"):
        load_settings(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = = not toml")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_settings(bad)
