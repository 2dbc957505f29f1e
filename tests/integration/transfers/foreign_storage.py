"""Storage we did not write, for interop tests: nginx's WebDAV module and an XRootD server
with its HTTP-TPC plugin, each a private subprocess on a free loopback port."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from gridtest import NGINX, free_port, nginx_dav  # noqa: F401 - nginx_dav, NGINX: used by the interop tests

XROOTD = shutil.which("xrootd")


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, what: str, **kw: object) -> None:
    deadline = time.monotonic() + 20
    while True:
        try:
            httpx.get(url, timeout=1, **kw)  # type: ignore[arg-type]
            return
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{what} did not start: {log.read_text() if log.exists() else ''}") from None
            time.sleep(0.1)


def _self_signed(dir_: Path) -> tuple[Path, Path]:
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = dir_ / "cert.pem", dir_ / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@contextmanager
def xrootd_https(tmp: Path) -> Iterator[tuple[str, Path, Path]]:
    """An XRootD server with XrdHttp and the HTTP-TPC plugin over TLS (self-signed);
    anonymous access (no token checks); yields (https url, export root, CA file)."""
    assert XROOTD
    base = tmp / "xrootd"
    root = base / "data"
    (root / "belle").mkdir(parents=True)
    certs = base / "certs"
    certs.mkdir()
    cert, key = _self_signed(certs)
    xport, hport = free_port(), free_port()
    cfg = base / "xrootd.cfg"
    cfg.write_text(f"""all.adminpath {base}/admin
all.export /belle
oss.localroot {root}
xrd.port {xport}
xrd.tls {cert} {key}
xrd.tlsca certfile {cert}
xrd.protocol XrdHttp:{hport} libXrdHttp.so
http.exthandler xrdtpc libXrdHttpTPC.so
ofs.tpc pgm /usr/bin/xrdcp
xrootd.chksum adler32
http.trace none
""")
    for p in (base, root, root / "belle", certs, cert, key, cfg):
        shutil.chown(p, "xrootd", "xrootd")
    os.chmod(key, 0o600)  # xrootd refuses a key file others can read
    os.chmod(base, 0o755)
    os.chmod(tmp, 0o755)
    for parent in tmp.parents:
        if str(parent).startswith("/tmp/pytest"):
            os.chmod(parent, 0o755)
    log = base / "xrootd.log"
    env = {**os.environ, "XrdSecPROTOCOL": "", "SSL_CERT_FILE": str(cert)}
    proc = subprocess.Popen([XROOTD, "-R", "xrootd", "-c", str(cfg), "-n", f"og{xport}", "-s", str(base / "pid")],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, cwd=base)
    url = f"https://127.0.0.1:{hport}"
    try:
        _wait_http(url + "/belle/", proc, log, "xrootd", verify=str(cert))
        yield url, root, cert
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
