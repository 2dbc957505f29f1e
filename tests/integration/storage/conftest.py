"""Storage fixtures: nginx's WebDAV module as a storage that we did not write.

A private nginx runs as a subprocess (`daemon off`) with a generated configuration in the
test's temporary folder, on a free loopback port. It speaks PUT/DELETE/MKCOL/COPY/MOVE and,
with the dav-ext module, PROPFIND/OPTIONS; it reports no checksum, which is the point:
the client must cope with servers that give no `Digest`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
DAV_EXT_CANDIDATES = ("/usr/lib/nginx/modules/ngx_http_dav_ext_module.so",
                      "/usr/lib64/nginx/modules/ngx_http_dav_ext_module.so")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Nginx:
    url: str  # http://127.0.0.1:PORT/data (the WebDAV root)
    root: Path  # the folder behind /data


def _config(prefix: Path, port: int, root: Path, module: str | None) -> str:
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


@pytest.fixture
def nginx(tmp_path: Path) -> Iterator[Nginx]:
    """A running nginx WebDAV server; skipped with a reason when nginx is not installed."""
    if NGINX is None:
        pytest.skip("nginx is not installed (Debian: nginx libnginx-mod-http-dav-ext)")
    module = next((m for m in DAV_EXT_CANDIDATES if Path(m).exists()), None)
    prefix = tmp_path / "nginx"
    root = tmp_path / "nginx-root"
    prefix.mkdir()
    root.mkdir()
    port = free_port()
    conf = prefix / "nginx.conf"
    conf.write_text(_config(prefix, port, root, module))
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/data"
    deadline = time.monotonic() + 15
    while True:
        try:
            httpx.get(url + "/", timeout=1)
            break
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                err = (proc.stderr.read() if proc.stderr else b"").decode()
                log = (prefix / "error.log").read_text() if (prefix / "error.log").exists() else ""
                raise RuntimeError(f"nginx did not start: {err}{log}") from None
            time.sleep(0.05)
    yield Nginx(url=url, root=root)
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture
def nginx_has_propfind() -> bool:
    return any(Path(m).exists() for m in DAV_EXT_CANDIDATES)
