"""`onegrid storage --tls-cert/--tls-key`: the endpoint over HTTPS (davs://), and third-party
copies from it that check its certificate."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from endpoint_harness import parse_tpc_body, running_endpoint

from onegrid.storage.settings import StorageSettings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def https_endpoint(live_server: Any, tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    cert, key = self_signed(tmp_path)
    port = _free_port()
    url = f"https://127.0.0.1:{port}"
    log = tmp_path / "tls.log"
    env = {**os.environ, "ONEGRID_CONFIG": "", "ONEGRID_DATA_DIR": str(tmp_path / "data")}
    with open(log, "wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "onegrid", "storage", "--root", str(tmp_path / "tls-root"), "--port", str(port),
             "--base-path", "/belle", "--issuer", live_server.url, "--tls-cert", str(cert), "--tls-key", str(key)],
            env=env, stdout=subprocess.DEVNULL, stderr=err)
    ctx = ssl.create_default_context(cafile=str(cert))
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(url + "/.well-known/wlcg-srr", verify=ctx, timeout=2)
            break
        except httpx.HTTPError:
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    yield url, cert, tmp_path / "tls-root"
    proc.terminate()
    proc.wait(timeout=20)


def test_https_endpoint_serves_and_is_a_tpc_source(live_server: Any, tmp_path: Path,
                                                    https_endpoint: tuple[str, Path, Path]) -> None:
    url, cert, root = https_endpoint
    ctx = ssl.create_default_context(cafile=str(cert))
    token = live_server.token("root", scopes=["storage.create:/", "storage.read:/"], audience=url)
    auth = {"Authorization": f"Bearer {token}"}
    data = os.urandom(12 * 1024 * 1024 + 5)  # large enough for the direct paths, which TLS must skip
    assert httpx.put(f"{url}/belle/f", content=data, headers=auth, verify=ctx, timeout=60).status_code == 201
    assert (root / "f").read_bytes() == data
    assert httpx.get(f"{url}/belle/f", headers=auth, verify=ctx, timeout=60).content == data

    trusting = StorageSettings(marker_interval=0.2, tpc_ca_path=str(cert))
    with (running_endpoint(tmp_path / "b", live_server.url, live_server.token, settings=trusting) as b,
          running_endpoint(tmp_path / "c", live_server.url, live_server.token) as c):
        for ep, expected in ((b, "success: Created"), (c, "failure:")):
            with ep.client("storage.create:/") as client:
                r = client.request("COPY", ep.pfn("copy"), timeout=60, headers={
                    "Source": f"davs://127.0.0.1:{url.rsplit(':', 1)[1]}/belle/f",
                    "TransferHeaderAuthorization": f"Bearer {token}"})
            last = parse_tpc_body(r.text)[1]
            assert last.startswith(expected), (ep.url, last)
        assert (b.root / "copy").read_bytes() == data
        assert "certificate" in last.lower() and not (c.root / "copy").exists()
