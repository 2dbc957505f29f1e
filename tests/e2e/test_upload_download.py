"""Upload and download end to end: a live OneGrid server, two `onegrid storage` processes
as the RSEs' endpoints, and the `onegrid` CLI as a user runs it.

Covers: upload with metadata into a dataset (checksums verified against the storage's
`Digest`), a third-party copy to the second RSE with narrowed tokens, a download of the
dataset that meets a corrupt replica (another replica is used, the bad one declared), a
second download that skips what is present, and an upload killed half-way that leaves
nothing registered and no file at the final path."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from gridtest import RUCIO
from onegrid.client import OneGridClient
from onegrid.client.catalog import CatalogClient, pfn_for
from onegrid.errors import NotFound
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE
from onegrid.storage.client import third_party_copy
from onegrid.storage.client.tokens import audience_of, storage_token


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Endpoint:
    name: str
    url: str
    root: Path
    proc: subprocess.Popen[bytes]


def start_endpoint(name: str, root: Path, issuer: str) -> Endpoint:
    port = _port()
    # The access log goes to a file: a pipe nobody reads would fill and stall the endpoint.
    log = root.parent / f"{name}.log"
    with log.open("wb") as log_file:
        proc = subprocess.Popen([sys.executable, "-m", "onegrid", "storage", "--root", str(root), "--port",
                                 str(port), "--base-path", "/belle", "--issuer", issuer, "--name", name],
                                stdout=subprocess.DEVNULL, stderr=log_file)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(url + "/.well-known/wlcg-srr", timeout=1)
            return Endpoint(name, url, root, proc)
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"onegrid storage did not start: {log.read_text()}") from None
            time.sleep(0.1)


@pytest.fixture
def grid(live_server: Any, tmp_path: Path) -> Iterator[dict[str, Any]]:
    endpoints = [start_endpoint(n, tmp_path / n.lower(), live_server.url) for n in ("SITE-A-DISK", "SITE-B-DISK")]
    # The user's token: usable at the server and exchangeable for storage tokens.
    token = live_server.token("root", audience=WLCG_ANY_AUDIENCE,
                              scopes=["storage.read:/", "storage.create:/", "storage.modify:/"])
    cat = OneGridClient(live_server.url, token).catalog
    cat.add_scope("belle", "root")
    for ep in endpoints:
        cat.add_rse(ep.name)
        cat.add_protocol(ep.name, "http", "127.0.0.1", int(ep.url.rsplit(":", 1)[1]), "/belle")
        cat.set_rse_attribute(ep.name, "site", ep.name.split("-DISK")[0])
    yield {"server": live_server.url, "token": token, "cat": cat, "se": {e.name: e for e in endpoints}}
    for ep in endpoints:
        ep.proc.terminate()
        try:
            ep.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            ep.proc.kill()


def onegrid(grid: dict[str, Any], *args: str, ok: bool = True, **extra_env: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ONEGRID_SERVER": grid["server"], "ONEGRID_TOKEN": grid["token"],
           "ONEGRID_NO_PROGRESS": "1", **extra_env}
    proc = subprocess.run([sys.executable, "-m", "onegrid", *args], env=env, capture_output=True, text=True,
                          timeout=180)
    if ok:
        assert proc.returncode == 0, f"onegrid {' '.join(args)}: {proc.stdout}{proc.stderr}"
    return proc


def on_disk(cat: CatalogClient, ep: Endpoint, name: str) -> Path:
    pfn = pfn_for(cat.get_rse(ep.name), "belle", name)
    return ep.root / pfn.split("/belle/", 1)[1]


def test_upload_replicate_download_with_a_corrupt_replica_and_skip(grid: dict[str, Any], tmp_path: Path) -> None:
    cat: CatalogClient = grid["cat"]
    a, b = grid["se"]["SITE-A-DISK"], grid["se"]["SITE-B-DISK"]
    files = []
    for i in range(4):
        f = tmp_path / f"mdst{i}.root"
        f.write_bytes(os.urandom(1_000_000 + i))
        files.append(f)
    up = json.loads(onegrid(grid, "upload", *map(str, files), "--rse", a.name, "--scope", "belle",
                            "--dataset", "belle:mc.ds", "--meta", "datatype=mdst", "--meta", "exp=26",
                            "--json").stdout)
    assert [r["state"] for r in up] == ["DONE"] * 4
    for f in files:
        assert on_disk(cat, a, f.name).read_bytes() == f.read_bytes()
        assert cat.get_did("belle", f.name)["adler32"] == f"{zlib.adler32(f.read_bytes()) & 0xFFFFFFFF:08x}"
    assert {n for n in cat.list_dids("belle", "datatype=mdst,exp=26", did_type="file")} >= {f.name for f in files}
    # Replicate mdst0 to SITE-B by third-party copy with tokens narrowed to each storage.
    src = pfn_for(cat.get_rse(a.name), "belle", "mdst0.root")
    dst = pfn_for(cat.get_rse(b.name), "belle", "mdst0.root")
    result = third_party_copy(src, dst, mode="pull", source_token=storage_token(cat.t, [src], write=False),
                              dest_token=storage_token(cat.t, [dst], write=True))
    assert result.bytes_transferred == files[0].stat().st_size
    cat.add_replicas(b.name, [{"scope": "belle", "name": "mdst0.root", "bytes": up[0]["bytes"],
                               "adler32": up[0]["adler32"]}])
    # Corrupt SITE-A's copy behind the endpoint's back (same size: only checksums can tell).
    corrupt = on_disk(cat, a, "mdst0.root")
    data = bytearray(corrupt.read_bytes())
    data[500] ^= 0xFF
    corrupt.write_bytes(bytes(data))
    out = tmp_path / "dl"
    rows = {r["did"]: r for r in json.loads(onegrid(grid, "download", "belle:mc.ds", "--dir", str(out),
                                                          "--site", "SITE-A", "--json").stdout)}
    assert {r["state"] for r in rows.values()} == {"DONE"}
    assert rows["belle:mdst0.root"]["rse"] == b.name and rows["belle:mdst0.root"]["bad"] == [a.name]
    for f in files:
        assert (out / "belle" / f.name).read_bytes() == f.read_bytes()
    assert [(x["name"], x["rse"]) for x in cat.list_bad_replicas(a.name)] == [("mdst0.root", a.name)]
    # Again: everything is present with the right checksum, nothing is read.
    again = json.loads(onegrid(grid, "download", "belle:mc.ds", "--dir", str(out), "--json").stdout)
    assert {r["state"] for r in again} == {"ALREADY_PRESENT"}
    # The tokens sent to storages are exchanged ones, narrowed to the storage.
    narrowed = storage_token(cat.t, [src], write=False)
    assert narrowed and narrowed != grid["token"]
    claims = json.loads(__import__("base64").urlsafe_b64decode(narrowed.split(".")[1] + "=="))
    assert claims["aud"] in (a.url, [a.url]) and audience_of(src) == a.url
    assert "storage.create:/" not in claims["scope"]


def test_an_upload_killed_half_way_is_never_registered(grid: dict[str, Any], tmp_path: Path) -> None:
    cat: CatalogClient = grid["cat"]
    a = grid["se"]["SITE-A-DISK"]
    big = tmp_path / "big.root"
    with big.open("wb") as f:
        f.truncate(1 << 30)  # 1 GiB (sparse): long enough to be caught mid-way
    env = {**os.environ, "ONEGRID_SERVER": grid["server"], "ONEGRID_TOKEN": grid["token"], "ONEGRID_NO_PROGRESS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "onegrid", "upload", str(big), "--rse", a.name, "--scope",
                             "belle"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    target = on_disk(cat, a, "big.root")
    deadline = time.monotonic() + 60
    while not (target.parent.exists() and any(p.name.startswith(".onegrid-part-") for p in target.parent.iterdir())):
        assert proc.poll() is None, "the upload ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.01)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with pytest.raises(NotFound):
        cat.get_did("belle", "big.root")
    assert not target.exists()
    # The endpoint drops the partial upload when the connection dies.
    deadline = time.monotonic() + 20
    while any(p.name.startswith(".onegrid-part-") for p in target.parent.iterdir()):
        assert time.monotonic() < deadline, "partial upload left behind"
        time.sleep(0.1)




def self_signed(tmp: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (the stock Rucio WebDAV client does not verify it)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp / "cert.pem", tmp / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture
def tls_endpoint(live_server: Any, tmp_path: Path) -> Iterator[Endpoint]:
    """Our endpoint's app behind TLS (uvicorn's own), as sites deploy it."""
    import threading

    import uvicorn

    from onegrid.storage.endpoint.app import create_endpoint_app
    from onegrid.storage.endpoint.config import EndpointConfig

    cert, key = self_signed(tmp_path)
    port = _port()
    url = f"https://127.0.0.1:{port}"
    config = EndpointConfig(root=tmp_path / "tls-se", base_path="/belle", issuer=live_server.url, url=url,
                            name="RUCIO-DISK")
    server = uvicorn.Server(uvicorn.Config(create_endpoint_app(config), host="127.0.0.1", port=port,
                                           ssl_certfile=str(cert), ssl_keyfile=str(key), log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "TLS endpoint did not start"
        time.sleep(0.05)
    yield Endpoint("RUCIO-DISK", url, config.root, None)  # type: ignore[arg-type]
    server.should_exit = True
    thread.join(timeout=10)


@pytest.mark.skipif(not RUCIO.exists(), reason="rucio-clients not installed")
def test_stock_rucio_upload_and_download_against_onegrid_storage(grid: dict[str, Any], tls_endpoint: Endpoint,
                                                                 tmp_path: Path) -> None:
    """`rucio upload` / `rucio download` with Rucio's own WebDAV protocol implementation
    (`rucio.rse.protocols.webdav.Default`, https only). With `auth_type = oidc` the stock
    client finds a WLCG token by bearer-token discovery (`$BEARER_TOKEN`) and sends it to
    the server and to the storage alike, so its audience must name both (or be "any")."""
    cat: CatalogClient = grid["cat"]
    cat.add_rse("RUCIO-DISK")
    cat.add_protocol("RUCIO-DISK", "https", "127.0.0.1", int(tls_endpoint.url.rsplit(":", 1)[1]), "/belle",
                     impl="rucio.rse.protocols.webdav.Default")
    cfg = tmp_path / "rucio.cfg"
    cfg.write_text(
        "[client]\n"
        f"rucio_host = {grid['server']}\nauth_host = {grid['server']}\n"
        "auth_type = oidc\naccount = root\n"
        f"request_retries = 1\nauth_token_file_path = {tmp_path / 'token'}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ONEGRID_", "BEARER_TOKEN", "X509"))}
    env.update({"RUCIO_CONFIG": str(cfg), "HOME": str(tmp_path), "BEARER_TOKEN": grid["token"]})
    f = tmp_path / "rucio_file.root"
    f.write_bytes(os.urandom(100_000))

    def rucio(*args: str) -> str:
        proc = subprocess.run([str(RUCIO), *args], capture_output=True, text=True, env=env, timeout=120,
                              cwd=tmp_path)
        out = proc.stdout + proc.stderr
        # `rucio upload` logs a failed file and still exits 0: read what it says.
        assert proc.returncode == 0 and "ERROR" not in out, out
        return out

    rucio("upload", "--rse", "RUCIO-DISK", "--scope", "belle", "--lifetime", "3600", str(f))
    did = cat.get_did("belle", "rucio_file.root")
    assert did["adler32"] == f"{zlib.adler32(f.read_bytes()) & 0xFFFFFFFF:08x}"
    stored = tls_endpoint.root / pfn_for(cat.get_rse("RUCIO-DISK"), "belle", "rucio_file.root").split("/belle/", 1)[1]
    assert stored.read_bytes() == f.read_bytes()
    rucio("download", "--dir", str(tmp_path / "rdl"), "belle:rucio_file.root")
    assert (tmp_path / "rdl/belle/rucio_file.root").read_bytes() == f.read_bytes()
    # And our own download reads what Rucio's upload wrote.
    out = json.loads(onegrid(grid, "download", "belle:rucio_file.root", "--dir", str(tmp_path / "odl"),
                             "--json", ONEGRID_CA_BUNDLE=str(tmp_path / "cert.pem")).stdout)
    assert out[0]["state"] == "DONE"
