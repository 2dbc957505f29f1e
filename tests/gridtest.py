"""Test helpers shared by every test module: free ports, settings, a live server in a
thread, the CLI in a subprocess. (Import from here, not from `conftest`: with conftest files
in several folders, the name `conftest` means whichever pytest imported last.)"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


# -- nginx's WebDAV module: a storage we did not write ------------------------------------

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
DAV_EXT_CANDIDATES = ("/usr/lib/nginx/modules/ngx_http_dav_ext_module.so",
                      "/usr/lib64/nginx/modules/ngx_http_dav_ext_module.so")


def _nginx_config(prefix: Path, port: int, root: Path, module: str | None) -> str:
    load = f"load_module {module};\n" if module else ""
    # As root nginx's workers would drop to `nobody`, who cannot enter pytest's 0700 folders.
    if os.geteuid() == 0:
        load += "user root root;\n"
    ext = "        dav_ext_methods PROPFIND OPTIONS;\n" if module else ""
    return f"""{load}daemon off;
worker_processes 1;
error_log {prefix}/error.log warn;
pid {prefix}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log {prefix}/access.log;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_max_body_size 0;
    server {{
        listen 127.0.0.1:{port};
        location /data/ {{
            alias {root}/;
            dav_methods PUT DELETE MKCOL COPY MOVE;
{ext}            create_full_put_path on;
            dav_access user:rw group:r all:r;
            autoindex on;
        }}
    }}
}}
"""


@contextmanager
def nginx_dav(tmp: Path) -> Iterator[tuple[str, Path]]:
    """A private nginx (WebDAV, PROPFIND with the dav-ext module when installed) serving a
    folder at http://127.0.0.1:PORT/data/; yields (http://127.0.0.1:PORT, the folder).
    Callers check `NGINX` first (skip with a reason when nginx is not installed)."""
    assert NGINX, "nginx is not installed"
    module = next((m for m in DAV_EXT_CANDIDATES if Path(m).exists()), None)
    prefix, root = tmp / "nginx", tmp / "nginx-root"
    prefix.mkdir(parents=True)
    root.mkdir(parents=True)
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(_nginx_config(prefix, port, root, module))
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                httpx.get(url + "/data/", timeout=1)
                break
            except httpx.HTTPError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log = prefix / "error.log"
                    raise RuntimeError(f"nginx did not start: {log.read_text() if log.exists() else ''}") from None
                time.sleep(0.05)
        yield url, root
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
