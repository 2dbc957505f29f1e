"""The validation dependency over HTTP: every bad token is refused with 401/403 and a clear
message; trusted external issuers' tokens are accepted through OIDC discovery."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from gridtest import LiveServer, free_port, make_settings, serve_in_thread
from onegrid.clock import ManualClock, SystemClock
from onegrid.iam import service
from onegrid.iam.keys import generate_key
from onegrid.iam.tokens import issue_token
from onegrid.runtime import Runtime


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unsigned(header: dict, payload: dict) -> str:  # type: ignore[type-arg]
    return f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"


def payload_of(token: str) -> dict:  # type: ignore[type-arg]
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def whoami(server: LiveServer, token: str) -> tuple[int, str]:
    with server.client(token) as http:
        r = http.get("/whoami")
    return r.status_code, r.json().get("message", "")


def shifted(server: LiveServer, seconds: float) -> ManualClock:
    return ManualClock(SystemClock().now() + timedelta(seconds=seconds))


def mint_at(server: LiveServer, clock: ManualClock, **kw: object) -> str:
    args = {"issuer": server.url, "subject": "root", "audience": server.url, "lifetime": 3600, "clock": clock}
    args.update(kw)
    return issue_token(server.runtime.signing_key(), **args)  # type: ignore[arg-type]


def test_a_good_token_passes(live_server) -> None:
    assert whoami(live_server, live_server.token("root"))[0] == 200


def test_expired_token(live_server) -> None:
    token = mint_at(live_server, shifted(live_server, -3600 - 61 - 5))
    assert whoami(live_server, token) == (401, "token has expired; log in again")
    # Within the 60 s leeway it still passes.
    assert whoami(live_server, mint_at(live_server, shifted(live_server, -3600 - 30)))[0] == 200


def test_not_yet_valid_token(live_server) -> None:
    token = mint_at(live_server, shifted(live_server, 600))
    assert whoami(live_server, token) == (401, "token is not valid yet (nbf in the future)")


def test_wrong_audience(live_server) -> None:
    token = live_server.token("root", audience="https://elsewhere.example.org")
    status, message = whoami(live_server, token)
    assert status == 403 and "audience" in message and "does not include this service" in message


def test_tampered_payload(live_server) -> None:
    token = live_server.token("root")
    header, _, sig = token.split(".")
    claims = payload_of(token) | {"sub": "mallory"}
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{sig}"
    assert whoami(live_server, forged) == (401, "token signature is invalid")


def test_unknown_kid(live_server) -> None:
    stranger = generate_key("ES256")
    token = issue_token(stranger, issuer=live_server.url, subject="root", audience=live_server.url,
                        lifetime=600, clock=SystemClock())
    status, message = whoami(live_server, token)
    assert status == 401 and f"unknown key {stranger.kid!r}" in message


def test_alg_none(live_server) -> None:
    claims = payload_of(live_server.token("root"))
    token = unsigned({"alg": "none", "typ": "JWT", "kid": live_server.runtime.signing_key().kid}, claims) + "."
    status, message = whoami(live_server, token)
    assert status == 401 and "'none' is not accepted" in message


def test_hs256_signed_with_the_public_key(live_server) -> None:
    key = live_server.runtime.signing_key()
    pem = key.public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    body = unsigned({"alg": "HS256", "typ": "JWT", "kid": key.kid}, payload_of(live_server.token("root")))
    token = f"{body}.{b64(hmac.new(pem, body.encode(), hashlib.sha256).digest())}"
    status, message = whoami(live_server, token)
    assert status == 401 and "'HS256' is not accepted" in message


def test_wlcg_ver_2(live_server) -> None:
    token = mint_at(live_server, shifted(live_server, 0), extra={"wlcg.ver": "2.0"})
    assert whoami(live_server, token) == (401, "unsupported wlcg.ver '2.0'; this service accepts 1.x")


def test_garbage_and_untrusted_issuer(live_server) -> None:
    assert whoami(live_server, "garbage")[0] == 401
    token = issue_token(live_server.runtime.signing_key(), issuer="https://evil.example.org", subject="root",
                        audience=live_server.url, lifetime=600, clock=SystemClock())
    status, message = whoami(live_server, token)
    assert status == 401 and "not trusted" in message


@pytest.fixture
def external_issuer(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A second OneGrid, on its own database, acting as another token issuer."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rt = Runtime.create(make_settings(f"sqlite:///{tmp_path}/ext.db", tmp_path / "ext", url), clock=SystemClock())
    from onegrid.db.migrate import upgrade

    upgrade(f"sqlite:///{tmp_path}/ext.db")
    stop = serve_in_thread(rt, port)
    yield LiveServer(url=url, runtime=rt)
    stop()
    rt.close()


def test_tokens_of_a_trusted_external_issuer_are_accepted_by_discovery(db_url, tmp_path, external_issuer) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = make_settings(db_url, tmp_path / "data", url, iam={"trusted_issuers": [external_issuer.url]})
    rt = Runtime.create(settings, clock=SystemClock())
    stop = serve_in_thread(rt, port)
    try:
        ours = LiveServer(url=url, runtime=rt)
        ours.add_account("alice")
        with rt.transaction() as session:
            service.add_external_identity(session, rt.clock, "alice", external_issuer.url, "ext-alice-123")
        token = issue_token(external_issuer.runtime.signing_key(), issuer=external_issuer.url,
                            subject="ext-alice-123", audience=url, lifetime=600, clock=SystemClock(),
                            scopes=["compute.read"])
        with ours.client(token) as http:
            r = http.get("/whoami")
        assert r.status_code == 200, r.text
        assert r.json()["account"] == "alice" and r.json()["issuer"] == external_issuer.url
        stranger = issue_token(external_issuer.runtime.signing_key(), issuer=external_issuer.url,
                               subject="someone-else", audience=url, lifetime=600, clock=SystemClock())
        with ours.client(stranger) as http:
            assert http.get("/whoami").status_code == 401
    finally:
        stop()
        rt.close()
