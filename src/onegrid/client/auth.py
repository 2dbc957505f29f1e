"""Where the client finds its server and its token, and `connect()` for every CLI module.

Token: WLCG bearer token discovery (github.com/WLCG-AuthZ-WG/bearer-token-discovery):
`$BEARER_TOKEN`, the file `$BEARER_TOKEN_FILE`, `$XDG_RUNTIME_DIR/bt_u$UID`,
`/tmp/bt_u$UID`, first one found wins. `ONEGRID_TOKEN` is honoured first, for scripts.

Server: `--server`, else `ONEGRID_SERVER` / `ONEGRID_SERVER_URL`, else a `server_url` set
in the settings file, else the URL saved by `onegrid login` in the user's config
(`$XDG_CONFIG_HOME/onegrid/client.toml`), else http://127.0.0.1:8080.
"""

from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt

from onegrid.client import OneGridClient
from onegrid.clock import Clock, SystemClock
from onegrid.errors import OneGridError

DEFAULT_SERVER = "http://127.0.0.1:8080"
# Seconds before `exp` at which `connect()` renews a saved login's token.
REFRESH_MARGIN = 120
SERVER_ENV = ("ONEGRID_SERVER", "ONEGRID_SERVER_URL")


def _uid() -> int:
    return os.geteuid()


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "onegrid"


def config_path() -> Path:
    return Path(os.environ.get("ONEGRID_CLIENT_CONFIG") or config_dir() / "client.toml")


@dataclass(frozen=True)
class ClientConfig:
    """What `onegrid login` remembers (never the access token: that goes to discovery)."""

    server_url: str | None = None
    account: str | None = None
    refresh_token_file: str | None = None


def load_config() -> ClientConfig:
    path = config_path()
    if not path.is_file():
        return ClientConfig()
    try:
        data = tomllib.loads(path.read_text())
    except (tomllib.TOMLDecodeError, OSError):
        return ClientConfig()
    return ClientConfig(server_url=data.get("server_url"), account=data.get("account"),
                        refresh_token_file=data.get("refresh_token_file"))


def save_config(config: ClientConfig) -> Path:
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k} = {json.dumps(v)}" for k, v in vars(config).items() if v is not None]
    path.write_text("# written by `onegrid login`\n" + "\n".join(lines) + "\n")
    return path


def token_locations() -> list[Path]:
    """The files of WLCG discovery, in order (after the BEARER_TOKEN variable)."""
    out = []
    if os.environ.get("BEARER_TOKEN_FILE"):
        out.append(Path(os.environ["BEARER_TOKEN_FILE"]))
    if os.environ.get("XDG_RUNTIME_DIR"):
        out.append(Path(os.environ["XDG_RUNTIME_DIR"]) / f"bt_u{_uid()}")
    out.append(Path("/tmp") / f"bt_u{_uid()}")
    return out


def discover_token() -> str | None:
    """The bearer token by WLCG discovery (or `ONEGRID_TOKEN`), or None."""
    for var in ("ONEGRID_TOKEN", "BEARER_TOKEN"):
        value = os.environ.get(var, "").strip()
        if value:
            return value
    for path in token_locations():
        try:
            value = path.read_text().strip()
        except OSError:
            continue
        if value:
            return value
    return None


def token_save_location() -> Path:
    """Where `onegrid login` writes the token so that discovery finds it: the first
    discovery file whose directory exists (`$BEARER_TOKEN_FILE`, then the runtime dir)."""
    for path in token_locations():
        if path.parent.is_dir():
            return path
    return Path("/tmp") / f"bt_u{_uid()}"


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
    os.chmod(path, 0o600)  # an existing file keeps its mode through O_CREAT


def save_token(token: str) -> Path:
    path = token_save_location()
    _write_private(path, token)
    return path


def refresh_token_path() -> Path:
    return config_dir() / "refresh_token"


def save_refresh_token(token: str) -> Path:
    path = refresh_token_path()
    _write_private(path, token)
    return path


def load_refresh_token() -> str | None:
    path = Path(load_config().refresh_token_file or refresh_token_path())
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


def server_url(server: str | None = None, *, default_server: str | None = None) -> str:
    """`server`, else the environment, else a `default_server` that was configured (not
    the built-in default), else the URL saved by `onegrid login`, else the built-in default."""
    configured = default_server if default_server and default_server.rstrip("/") != DEFAULT_SERVER else None
    for candidate in (server, *(os.environ.get(v) for v in SERVER_ENV), configured, load_config().server_url):
        if candidate:
            return candidate.rstrip("/")
    return DEFAULT_SERVER


def _expires_soon(token: str, now: float, margin: float = REFRESH_MARGIN) -> bool:
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return False
    return isinstance(exp, int | float) and exp - margin < now


def refresh_saved_login(url: str, *, timeout: float = 60) -> str | None:
    """Renew the token saved by `onegrid login` for `url` with the saved refresh token
    (the same scopes and audience); None when there is nothing to renew with."""
    config = load_config()
    refresh_token = load_refresh_token()
    if not refresh_token or (config.server_url or "").rstrip("/") != url:
        return None
    try:
        with OneGridClient(url, timeout=timeout) as grid:
            answer = grid.iam.refresh_token(refresh_token)
    except (OneGridError, httpx.HTTPError):
        return None  # the server will say why the old token is refused
    save_token(answer["access_token"])
    if answer.get("refresh_token"):
        save_refresh_token(answer["refresh_token"])
    return str(answer["access_token"])


def connect(server: str | None = None, token: str | None = None, *, default_server: str | None = None,
            timeout: float = 60, clock: Clock | None = None) -> OneGridClient:
    """A client for the saved (or given) server with the discovered (or given) token; a
    discovered token about to expire is renewed first with the refresh token of the login."""
    url = server_url(server, default_server=default_server)
    found = token or discover_token()
    if token is None and found and _expires_soon(found, (clock or SystemClock()).time()):
        found = refresh_saved_login(url, timeout=timeout) or found
    return OneGridClient(url, found, timeout=timeout)
