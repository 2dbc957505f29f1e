"""Interop with the reference library: OneGrid's tokens validate with `scitokens`' Enforcer,
which finds our keys itself through /.well-known/openid-configuration → jwks_uri."""

from __future__ import annotations

import pytest

scitokens = pytest.importorskip("scitokens")


@pytest.fixture
def scitokens_cache(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "scitokens-cache"))


def enforcer(issuer: str, audience: str | list[str]) -> scitokens.Enforcer:
    e = scitokens.Enforcer(issuer, audience=audience)
    e.add_validator("wlcg.ver", lambda v: str(v).split(".")[0] == "1")
    e.add_validator("wlcg.groups", lambda v: isinstance(v, list) and all(g.startswith("/") for g in v))
    return e


def get_token(server, **form: str) -> str:  # type: ignore[no-untyped-def]
    with server.client() as http:
        r = http.post("/token", data=form)
    assert r.status_code == 200, r.text
    return str(r.json()["access_token"])


def test_issued_tokens_validate_with_the_scitokens_enforcer(live_server, scitokens_cache) -> None:
    se = "https://se.example.org"
    token = get_token(live_server, grant_type="password", username="root", password="root-password",
                      scope="storage.read:/belle storage.modify:/belle/user/root compute.read",
                      audience=se)
    parsed = scitokens.SciToken.deserialize(token, insecure=True)  # our test issuer is plain http
    e = enforcer(live_server.url, se)
    assert e.test(parsed, "storage.read", "/belle/data/run1/f.root"), e.last_failure
    assert e.test(parsed, "storage.modify", "/belle/user/root/out.root"), e.last_failure
    assert not e.test(parsed, "storage.read", "/belle2/data")
    assert not e.test(parsed, "storage.modify", "/belle/user/rootkit")
    assert not e.test(parsed, "storage.modify", "/belle/data")
    assert e.test(parsed, "compute.read"), e.last_failure
    # Another audience is refused by the reference library too.
    assert not enforcer(live_server.url, "https://other.example.org").test(parsed, "storage.read", "/belle")


def test_groups_and_exchanged_tokens_validate_too(live_server, scitokens_cache) -> None:
    live_server.add_account("alice", password="alice-password", groups=("/belle", "/belle/production"))
    subject = get_token(live_server, grant_type="password", username="alice", password="alice-password",
                        audience="https://wlcg.cern.ch/jwt/v1/any")
    narrow = get_token(live_server, grant_type="urn:ietf:params:oauth:grant-type:token-exchange",
                       subject_token=subject, scope="storage.read:/belle/data", audience="https://se.example.org")
    parsed = scitokens.SciToken.deserialize(narrow, insecure=True)
    assert parsed["wlcg.groups"] == ["/belle", "/belle/production"]
    e = enforcer(live_server.url, "https://se.example.org")
    assert e.test(parsed, "storage.read", "/belle/data/x"), e.last_failure
    assert not e.test(parsed, "storage.read", "/belle/mc")
    # A token for the WLCG "any" audience: scitokens needs to be told that the URI means
    # any (as a WLCG storage element configures it); then it accepts the token.
    anyaud = scitokens.SciToken.deserialize(subject, insecure=True)
    wlcg_se = enforcer(live_server.url, ["https://se.example.org", "https://wlcg.cern.ch/jwt/v1/any"])
    assert wlcg_se.test(anyaud, "storage.read", "/belle"), wlcg_se.last_failure
