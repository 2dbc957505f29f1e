"""WLCG bearer-token discovery and the saved server URL (onegrid.client.auth)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from onegrid.client import auth

UID = os.geteuid()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("ONEGRID_TOKEN", "BEARER_TOKEN", "BEARER_TOKEN_FILE", "ONEGRID_SERVER", "ONEGRID_SERVER_URL",
                "ONEGRID_CLIENT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path / "run"))
    (tmp_path / "run").mkdir()
    # /tmp/bt_u<uid> is the last resort of discovery; keep a real one out of the way.
    monkeypatch.setattr(auth, "_uid", lambda: 10**9 + UID)
    return tmp_path


def test_discovery_order(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert auth.discover_token() is None
    (env / "run" / f"bt_u{10**9 + UID}").write_text("from-runtime-dir\n")
    assert auth.discover_token() == "from-runtime-dir"
    (env / "file").write_text("  from-file \n")
    monkeypatch.setenv("BEARER_TOKEN_FILE", str(env / "file"))
    assert auth.discover_token() == "from-file"
    monkeypatch.setenv("BEARER_TOKEN", "from-variable")
    assert auth.discover_token() == "from-variable"
    monkeypatch.setenv("ONEGRID_TOKEN", "from-onegrid-token")
    assert auth.discover_token() == "from-onegrid-token"


def test_a_missing_token_file_falls_through(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEARER_TOKEN_FILE", str(env / "absent"))
    (env / "run" / f"bt_u{10**9 + UID}").write_text("next")
    assert auth.discover_token() == "next"


def test_saved_token_is_private_and_found_by_discovery(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = auth.save_token("abc.def.ghi")
    assert path == env / "run" / f"bt_u{10**9 + UID}"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.discover_token() == "abc.def.ghi"
    monkeypatch.setenv("BEARER_TOKEN_FILE", str(env / "bt"))
    assert auth.save_token("xyz") == env / "bt"
    assert auth.discover_token() == "xyz"


def test_server_url_precedence(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert auth.server_url() == "http://127.0.0.1:8080"
    auth.save_config(auth.ClientConfig(server_url="https://saved.example.org", account="alice"))
    assert auth.load_config().account == "alice"
    assert auth.server_url(default_server="http://127.0.0.1:8080") == "https://saved.example.org"
    assert auth.server_url(default_server="https://configured.example.org") == "https://configured.example.org"
    monkeypatch.setenv("ONEGRID_SERVER_URL", "https://env.example.org/")
    assert auth.server_url() == "https://env.example.org"
    assert auth.server_url("https://explicit.example.org") == "https://explicit.example.org"
    client = auth.connect(token="t")
    assert client.url == "https://env.example.org" and client.transport.token == "t"
    client.close()
