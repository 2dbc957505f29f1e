"""Tokens and paths: who may do what on the endpoint, and that nothing escapes its root."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from endpoint_harness import RunningEndpoint, running_endpoint

from onegrid.iam.keys import generate_key
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE, issue_token


@pytest.fixture
def se(live_server: Any, tmp_path: Path) -> Iterator[RunningEndpoint]:
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token) as ep:
        yield ep


def raw_request(se: RunningEndpoint, method: str, target: str, token: str | None = None, body: bytes = b"") -> int:
    """Send a request line exactly as written (httpx would normalise the dots away)."""
    host, port = se.url.removeprefix("http://").split(":")
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(f"{method} {target} HTTP/1.1\r\nHost: x\r\n{auth}Content-Length: {len(body)}\r\n"
                  f"Connection: close\r\n\r\n".encode() + body)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return int(reply.split(b" ", 2)[1])


def test_no_token_is_401_with_a_json_error(se: RunningEndpoint) -> None:
    with se.client() as c:
        r = c.get(se.pfn("x"))
    se.put("x", b"1")
    with se.client() as c:
        r = c.get(se.pfn("x"))
    assert r.status_code == 401
    assert r.json()["error"] == "UNAUTHENTICATED"
    assert r.headers["www-authenticate"].startswith("Bearer")


def test_scopes_are_paths_relative_to_the_base_path(se: RunningEndpoint) -> None:
    assert se.put("mc/a", b"a", "storage.create:/mc").status_code == 201
    r = se.put("data/a", b"a", "storage.create:/mc")
    assert r.status_code == 403 and "storage.create:/data/a" in r.json()["message"]
    assert se.put("mcbargain/a", b"a", "storage.create:/mc").status_code == 403
    with se.client("storage.read:/mc") as c:
        assert c.get(se.pfn("mc/a")).content == b"a"
    with se.client("storage.create:/mc") as c:
        assert c.get(se.pfn("mc/a")).status_code == 403  # create is not read
        assert c.head(se.pfn("mc/a")).status_code == 200  # but any storage scope may stat
        assert c.delete(se.pfn("mc/a")).status_code == 403  # nor delete
    with se.client("storage.modify:/mc") as c:
        assert c.delete(se.pfn("mc/a")).status_code == 204


def test_audience_must_name_this_endpoint_or_any(se: RunningEndpoint) -> None:
    se.put("f", b"1")
    other = se.token("storage.read:/", audience="http://elsewhere:1234")
    with se.client(token=other) as c:
        assert c.get(se.pfn("f")).status_code == 403
    anyone = se.token("storage.read:/", audience=WLCG_ANY_AUDIENCE)
    with se.client(token=anyone) as c:
        assert c.get(se.pfn("f")).status_code == 200


def test_tokens_of_unknown_keys_or_expired_are_refused(se: RunningEndpoint, live_server: Any) -> None:
    se.put("f", b"1")
    forged = issue_token(generate_key(), issuer=live_server.url, subject="mallory", audience=se.url,
                         scopes=["storage.read:/"], lifetime=600, clock=live_server.clock)
    expired = se.token("storage.read:/", lifetime=-3600)
    for token in (forged, expired, "not-a-jwt"):
        with se.client(token=token) as c:
            r = c.get(se.pfn("f"))
        assert r.status_code == 401, token


def test_anonymous_read_when_configured(live_server: Any, tmp_path: Path) -> None:
    with running_endpoint(tmp_path / "se", live_server.url, live_server.token, anonymous_read=True) as se:
        se.put("pub", b"public")
        with se.client() as c:
            assert c.get(se.pfn("pub")).content == b"public"
            assert c.request("PROPFIND", se.pfn(""), headers={"Depth": "1"}).status_code == 207
            assert c.put(se.pfn("nope"), content=b"x").status_code == 401
            assert c.delete(se.pfn("pub")).status_code == 401


@pytest.mark.parametrize("target", [
    "/belle/../secret",
    "/belle/%2e%2e/secret",
    "/belle/%2E%2E/%2e%2e/secret",
    "/belle/mc/..%2f..%2fsecret",
    "/belle/./..//secret",
    "//secret",
    "/secret",
    "/belle/.onegrid/checksums.sqlite",
])
def test_no_path_escapes_the_root(se: RunningEndpoint, target: str) -> None:
    (se.root.parent / "secret").write_text("outside the root")
    token = se.token("storage.read:/", "storage.modify:/")
    assert raw_request(se, "GET", target, token) in (400, 403, 404)
    assert raw_request(se, "PUT", target, token, b"overwritten?") in (400, 403, 404)
    assert raw_request(se, "DELETE", target, token) in (400, 403, 404)
    assert (se.root.parent / "secret").read_text() == "outside the root"


def test_symlinks_pointing_out_are_refused(se: RunningEndpoint) -> None:
    outside = se.root.parent / "outside"
    outside.mkdir()
    (outside / "f").write_text("outside")
    os.symlink(outside, se.root / "link")
    os.symlink(outside / "f", se.root / "filelink")
    with se.client("storage.read:/", "storage.modify:/") as c:
        assert c.get(se.pfn("link/f")).status_code == 403
        assert c.get(se.pfn("filelink")).status_code == 403
        assert c.put(se.pfn("link/new"), content=b"x").status_code == 403
        r = c.request("MOVE", se.pfn("filelink"), headers={"Destination": se.pfn("x")})
        assert r.status_code == 403
    assert not (outside / "new").exists()
    # A symlink that stays inside the root is fine.
    se.put("real/g", b"inside")
    os.symlink(se.root / "real", se.root / "alias")
    with se.client("storage.read:/") as c:
        assert c.get(se.pfn("alias/g")).content == b"inside"


def test_move_destination_on_another_path_is_checked_too(se: RunningEndpoint) -> None:
    se.put("a", b"a")
    with se.client("storage.modify:/") as c:
        r = c.request("MOVE", se.pfn("a"), headers={"Destination": se.url + "/belle/../../etc/x"})
        assert r.status_code in (400, 403, 404)
    assert (se.root / "a").exists()


def test_srr_needs_no_token(se: RunningEndpoint) -> None:
    assert httpx.get(se.url + "/.well-known/wlcg-srr").status_code == 200
