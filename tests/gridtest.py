"""Test helpers shared by every test module: free ports, settings, a live server in a
thread, the CLI in a subprocess. (Import from here, not from `conftest`: with conftest files
in several folders, the name `conftest` means whichever pytest imported last.)"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn

from onegrid.api import create_app
from onegrid.clock import Clock
from onegrid.config import Settings
from onegrid.iam import service as iam
from onegrid.iam.tables import AccountType
from onegrid.iam.tokens import issue_token
from onegrid.runtime import Runtime


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_settings(db_url: str, data_dir: Path, server_url: str = "http://127.0.0.1:8080", **extra: object) -> Settings:
    return Settings(data_dir=data_dir, database_url=db_url, server_url=server_url, **extra)


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


# -- the stock rucio client ---------------------------------------------------------------

RUCIO = Path(sys.executable).parent / "rucio"


def rucio_api(env: dict[str, str], code: str) -> object:
    """Run Python code using `rucio.client.Client()` (as `c`) in a subprocess; it prints JSON."""
    import json

    proc = subprocess.run([sys.executable, "-c", "import json\nfrom rucio.client import Client\nc = Client()\n" + code],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
