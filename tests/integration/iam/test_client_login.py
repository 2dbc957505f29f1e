"""The client side of a login: the saved token is found, and renewed when it expires."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest

from onegrid.client import auth
from onegrid.clock import ManualClock, SystemClock


@pytest.fixture
def user_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for var in ("ONEGRID_TOKEN", "BEARER_TOKEN", "BEARER_TOKEN_FILE", "ONEGRID_SERVER", "ONEGRID_SERVER_URL",
                "ONEGRID_CLIENT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("BEARER_TOKEN_FILE", str(tmp_path / "bt"))
    return tmp_path


def test_connect_renews_an_expiring_saved_token_with_the_refresh_token(live_server, user_dirs) -> None:
    with auth.connect(live_server.url) as grid:
        answer = grid.iam.password_token("root", "root-password", scope="compute.read storage.read:/belle")
    auth.save_token(answer["access_token"])
    auth.save_refresh_token(answer["refresh_token"])
    auth.save_config(auth.ClientConfig(server_url=live_server.url, account="root"))

    with auth.connect() as grid:  # still fresh: used as it is
        assert grid.transport.token == answer["access_token"]
        assert grid.iam.whoami()["account"] == "root"
    later = ManualClock(SystemClock().now() + timedelta(seconds=3600 - 60))
    with auth.connect(clock=later) as grid:
        renewed = grid.transport.token
        assert renewed != answer["access_token"]
        assert grid.iam.whoami()["scopes"] == ["compute.read", "storage.read:/belle"]
    assert (user_dirs / "bt").read_text().strip() == renewed
    assert jwt.decode(renewed, options={"verify_signature": False})["scope"] == "compute.read storage.read:/belle"
    # The spent refresh token was replaced by the new one.
    assert auth.load_refresh_token() != answer["refresh_token"]


def test_an_explicit_token_is_never_replaced(live_server, user_dirs) -> None:
    later = ManualClock(SystemClock().now() + timedelta(days=1))
    with auth.connect(live_server.url, "explicit.token.value", clock=later) as grid:
        assert grid.transport.token == "explicit.token.value"
