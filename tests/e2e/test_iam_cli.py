"""The IAM commands end to end, as a user runs them, against a live server on loopback:
login → whoami → token → account/group/policy/key commands."""

from __future__ import annotations

import json
import os
from pathlib import Path

import jwt
import pytest

from gridtest import run_cli


@pytest.fixture
def user_env(tmp_path: Path) -> dict[str, str]:
    """A user's own config and runtime dirs, and no token or server in the environment."""
    (tmp_path / "run").mkdir()
    return {"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_RUNTIME_DIR": str(tmp_path / "run"),
            "HOME": str(tmp_path), "BEARER_TOKEN": "", "BEARER_TOKEN_FILE": "", "ONEGRID_TOKEN": "",
            "ONEGRID_SERVER": "", "ONEGRID_SERVER_URL": "", "ONEGRID_PASSWORD": ""}


def cli_json(*args: str, env: dict[str, str]) -> object:
    return json.loads(run_cli(*args, "--json", env=env).stdout)


def test_login_whoami_token_and_administration(live_server, user_env, tmp_path) -> None:
    env = user_env
    out = run_cli("login", "--server", live_server.url, "--account", "root", "--password", "root-password",
                  env=env).stdout
    token_file = tmp_path / "run" / f"bt_u{os.geteuid()}"
    assert f"token in {token_file}" in out and token_file.is_file()
    assert (tmp_path / "config" / "onegrid" / "client.toml").read_text().count(live_server.url) == 1
    # From here on no --server: the saved URL and the discovered token are used.
    me = cli_json("whoami", env=env)
    assert me["account"] == "root" and me["type"] == "ROOT"  # type: ignore[index]

    for path in ("/belle", "/belle/production"):
        run_cli("group", "add", path, env=env)
    run_cli("group", "add", "/belle/admin", "--role", env=env)
    row = cli_json("account", "add", "alice", "--password", "alice-password", "--group", "/belle",
                   "--email", "alice@example.org", env=env)
    assert row[0]["name"] == "alice" and row[0]["status"] == "ACTIVE"  # type: ignore[index]
    run_cli("group", "add-member", "/belle/production", "alice", env=env)
    service = cli_json("account", "add", "robot", "--type", "SERVICE", env=env)
    assert service[0]["client_secret"]  # type: ignore[index]
    policy = cli_json("policy", "add", "PERMIT", "storage.modify:/belle/mc", "--group", "/belle/production", env=env)
    deny = cli_json("policy", "add", "DENY", "storage.modify:/belle/mc/frozen", "--group", "/belle/production",
                    env=env)
    listed = cli_json("policy", "list", "--group", "/belle/production", env=env)
    assert [p["rule"] for p in listed] == ["PERMIT", "DENY"]  # type: ignore[union-attr]
    assert [a["name"] for a in cli_json("account", "list", env=env)] == ["alice", "robot", "root"]  # type: ignore[union-attr]
    shown = cli_json("account", "show", "alice", env=env)
    assert shown["groups"] == ["/belle", "/belle/production"]  # type: ignore[index]
    groups = {g["path"]: g["members"] for g in cli_json("group", "list", env=env)}  # type: ignore[union-attr]
    assert groups == {"/belle": 1, "/belle/admin": 0, "/belle/production": 1}
    table = run_cli("group", "list", env=env).stdout
    assert "/belle/production" in table
    keys = cli_json("key", "list", env=env)
    rotated = cli_json("key", "rotate", env=env)
    assert len(cli_json("key", "list", env=env)) == len(keys) + 1  # type: ignore[arg-type]
    assert rotated[0]["kid"] not in {k["kid"] for k in keys}  # type: ignore[index, union-attr]
    assert cli_json("whoami", env=env)["account"] == "root"  # type: ignore[index]  # old key still verifies

    # alice logs in, sees her groups and gets a narrowed token for a storage element.
    run_cli("login", "--account", "alice", "--password", "alice-password",
            "--scope", "storage.read:/belle storage.modify:/belle/mc storage.modify:/belle/mc/run7 compute.create",
            env=env)
    me = cli_json("whoami", env=env)
    assert me["account"] == "alice" and me["groups"] == ["/belle", "/belle/production"]  # type: ignore[index]
    # /belle/mc as a whole reaches into the DENY'd /belle/mc/frozen: only run7 is given.
    assert me["scopes"] == ["storage.read:/belle", "storage.modify:/belle/mc/run7", "compute.create"]  # type: ignore[index]
    narrowed = run_cli("token", "--scope", "storage.modify:/belle/mc/run7/f1", "--audience", "https://se.example.org",
                       env=env).stdout.strip()
    claims = jwt.decode(narrowed, options={"verify_signature": False})
    assert claims["scope"] == "storage.modify:/belle/mc/run7/f1" and claims["aud"] == "https://se.example.org"
    assert claims["sub"] == "alice" and claims["wlcg.ver"] == "1.0"
    wider = run_cli("token", "--scope", "storage.modify:/belle/mc", env=env, check=False)
    assert wider.returncode == 1 and wider.stderr.startswith("error: token exchange cannot widen")
    assert len(wider.stderr.strip().splitlines()) == 1
    denied = run_cli("account", "list", env=env, check=False)
    assert denied.returncode == 1 and "only root or a VO administrator" in denied.stderr
    renewed = run_cli("login", "--refresh", env=env).stdout
    assert "as alice" in renewed

    # root again: remove, delete, suspend; alice can no longer log in.
    run_cli("login", "--account", "root", "--password", "root-password", env=env)
    run_cli("group", "remove-member", "/belle/production", "alice", env=env)
    run_cli("policy", "delete", str(deny[0]["id"]), env=env)  # type: ignore[index]
    assert [p["id"] for p in cli_json("policy", "list", env=env)] == [policy[0]["id"]]  # type: ignore[index, union-attr]
    assert cli_json("account", "suspend", "alice", env=env)[0]["status"] == "SUSPENDED"  # type: ignore[index]
    refused = run_cli("login", "--account", "alice", "--password", "alice-password", env=env, check=False)
    assert refused.returncode == 1 and "suspended" in refused.stderr
    bad = run_cli("login", "--account", "root", "--password", "wrong-password", env=env, check=False)
    assert bad.returncode == 1 and bad.stderr.strip() == "error: wrong username or password"


def test_other_cli_modules_use_the_saved_login(live_server, user_env) -> None:
    run_cli("login", "--server", live_server.url, "--account", "root", "--password", "root-password",
            env=user_env)
    scopes = cli_json("scope", "list", env=user_env)
    assert isinstance(scopes, list)
