"""POST /token over HTTP: the four grants, scope policies, roles, refresh and exchange."""

from __future__ import annotations

import httpx
import jwt
import pytest

from onegrid.iam.tables import AccountType
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


def post_token(server, **form: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    with server.client() as http:
        return http.post("/token", data=form)


def claims(token: str) -> dict:  # type: ignore[type-arg]
    return jwt.decode(token, options={"verify_signature": False})


def password(server, user: str, pw: str, **form: str) -> httpx.Response:  # type: ignore[no-untyped-def]
    return post_token(server, grant_type="password", username=user, password=pw, **form)


@pytest.fixture
def alice(live_server):  # type: ignore[no-untyped-def]
    live_server.add_account("alice", password="alice-password", groups=("/belle", "/belle/production"))
    return live_server


def test_discovery_lists_the_token_endpoint_and_grants(live_server) -> None:
    with live_server.client() as http:
        conf = http.get("/.well-known/openid-configuration").json()
    assert conf["token_endpoint"] == f"{live_server.url}/token"
    assert conf["issuer"] == live_server.url
    assert set(conf["grant_types_supported"]) == {"password", "client_credentials", "refresh_token", EXCHANGE}


def test_password_grant_gives_a_wlcg_token_with_default_scopes(alice) -> None:
    r = password(alice, "alice", "alice-password")
    assert r.status_code == 200, r.text
    assert r.headers["cache-control"] == "no-store"
    body = r.json()
    c = claims(body["access_token"])
    assert c["iss"] == alice.url and c["sub"] == "alice" and c["aud"] == alice.url
    assert c["wlcg.ver"] == "1.0" and c["jti"] and c["exp"] - c["iat"] == 3600
    assert c["wlcg.groups"] == ["/belle", "/belle/production"]
    assert "compute.create" in c["scope"].split() and "storage.read:/" in c["scope"].split()
    assert "storage.modify:/" not in c["scope"]
    assert body["refresh_token"] and body["token_type"] == "Bearer"
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "ES256" and header["kid"]


def test_wrong_password_and_unknown_user_get_the_same_401(alice) -> None:
    for user, pw in (("alice", "nope-nope"), ("nobody", "alice-password")):
        r = password(alice, user, pw)
        assert r.status_code == 401
        assert r.json() == {"error": "UNAUTHENTICATED", "message": "wrong username or password",
                            "error_description": "wrong username or password"}


def test_suspended_account_gets_no_token_and_its_tokens_stop_working(alice) -> None:
    token = password(alice, "alice", "alice-password").json()["access_token"]
    root = alice.token("root")
    with alice.client(root) as http:
        assert http.post("/iam/accounts/alice/suspend").status_code == 200
    r = password(alice, "alice", "alice-password")
    assert r.status_code == 401 and "suspended" in r.json()["message"]
    with alice.client(token) as http:
        r = http.get("/whoami")
    assert r.status_code == 401 and "suspended" in r.json()["message"]


def test_requested_scopes_are_cut_to_what_policies_allow(alice) -> None:
    root = alice.token("root")
    with alice.client(root) as http:
        r = http.post("/iam/policies", json={"rule": "PERMIT", "group": "/belle/production",
                                             "scopes": ["storage.modify:/belle/mc"]})
        assert r.status_code == 201, r.text
        http.post("/iam/policies", json={"rule": "DENY", "group": "/belle/production",
                                         "scopes": ["storage.modify:/belle/mc/frozen"]})
    r = password(alice, "alice", "alice-password",
                 scope="storage.modify:/belle/mc/run1 storage.modify:/belle/raw storage.modify:/belle/mc")
    assert r.status_code == 200, r.text
    assert r.json()["scope"] == "storage.modify:/belle/mc/run1"
    r = password(alice, "alice", "alice-password", scope="storage.modify:/belle/mc/frozen/x storage.stage:/belle")
    assert r.status_code == 403
    assert "none of the requested scopes" in r.json()["message"]


def test_roles_are_asserted_only_when_asked_for(alice) -> None:
    with alice.runtime.transaction() as session:
        from onegrid.iam import service

        service.create_group(session, alice.clock, "/belle/admin", is_role=True)
        service.add_member(session, alice.clock, "/belle/admin", "alice")
    plain = claims(password(alice, "alice", "alice-password").json()["access_token"])
    assert "/belle/admin" not in plain["wlcg.groups"]
    asked = claims(password(alice, "alice", "alice-password",
                            scope="wlcg.groups:/belle/admin compute.read").json()["access_token"])
    assert asked["wlcg.groups"][0] == "/belle/admin"
    assert "wlcg.groups:/belle/admin" in asked["scope"].split()
    r = password(alice, "alice", "alice-password", scope="wlcg.groups:/belle/data")
    assert r.status_code == 403  # not a member: nothing left


def test_root_gets_every_scope_and_audience(live_server) -> None:
    r = password(live_server, "root", "root-password", scope="storage.modify:/ compute.cancel",
                 audience="https://se1.example.org https://se2.example.org/")
    assert r.status_code == 200, r.text
    c = claims(r.json()["access_token"])
    assert c["scope"] == "storage.modify:/ compute.cancel"
    assert c["aud"] == ["https://se1.example.org", "https://se2.example.org"]


def test_client_credentials_for_service_accounts(live_server) -> None:
    live_server.add_account("transfer-agent", type=AccountType.SERVICE)
    with live_server.client(live_server.token("root")) as http:
        secret = http.post("/iam/accounts/transfer-agent/secrets", json={}).json()["client_secret"]
        http.post("/iam/policies", json={"rule": "PERMIT", "account": "transfer-agent",
                                         "scopes": ["storage.modify:/"]}).raise_for_status()
    with live_server.client() as http:
        r = http.post("/token", data={"grant_type": "client_credentials", "scope": "storage.modify:/belle",
                                      "audience": WLCG_ANY_AUDIENCE}, auth=("transfer-agent", secret))
        assert r.status_code == 200, r.text
        assert "refresh_token" not in r.json()
        c = claims(r.json()["access_token"])
        assert c["sub"] == "transfer-agent" and c["aud"] == WLCG_ANY_AUDIENCE
        assert c["scope"] == "storage.modify:/belle"
        r = http.post("/token", data={"grant_type": "client_credentials", "client_id": "transfer-agent",
                                      "client_secret": "wrong"})
        assert r.status_code == 401
    # A USER account has no client secrets.
    live_server.add_account("bob", password="bob-password")
    with live_server.client(live_server.token("root")) as http:
        assert http.post("/iam/accounts/bob/secrets", json={}).status_code == 400


def test_refresh_narrows_and_spends_the_refresh_token(alice) -> None:
    first = password(alice, "alice", "alice-password", scope="compute.read compute.create storage.read:/belle",
                     audience=WLCG_ANY_AUDIENCE).json()
    r = post_token(alice, grant_type="refresh_token", refresh_token=first["refresh_token"],
                   scope="storage.read:/belle/data", audience="https://se.example.org")
    assert r.status_code == 200, r.text
    second = r.json()
    c = claims(second["access_token"])
    assert c["scope"] == "storage.read:/belle/data" and c["aud"] == "https://se.example.org"
    # The used refresh token is spent; the new one cannot widen past what it was given.
    again = post_token(alice, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert again.status_code == 401
    wider = post_token(alice, grant_type="refresh_token", refresh_token=second["refresh_token"],
                       scope="storage.read:/")
    assert wider.status_code == 403
    wider_aud = post_token(alice, grant_type="refresh_token", refresh_token=second["refresh_token"],
                           audience="https://other.example.org")
    assert wider_aud.status_code == 403
    # Only live refresh tokens are kept: the spent one is gone.
    import sqlalchemy as sa

    from onegrid.iam.tables import RefreshToken

    with alice.runtime.reading() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(RefreshToken)
                              .where(RefreshToken.account == "alice")) == 1


def test_token_exchange_narrows_scope_audience_and_lifetime_never_widens(alice) -> None:
    subject = password(alice, "alice", "alice-password", scope="storage.read:/belle compute.read",
                       audience=WLCG_ANY_AUDIENCE).json()["access_token"]
    r = post_token(alice, grant_type=EXCHANGE, subject_token=subject,
                   subject_token_type="urn:ietf:params:oauth:token-type:access_token",
                   scope="storage.read:/belle/data/run1", audience="https://se.example.org")
    assert r.status_code == 200, r.text
    narrow = r.json()
    c = claims(narrow["access_token"])
    assert c["scope"] == "storage.read:/belle/data/run1" and c["aud"] == "https://se.example.org"
    assert c["exp"] <= claims(subject)["exp"]
    assert narrow["issued_token_type"] == "urn:ietf:params:oauth:token-type:access_token"
    # Widening: a path outside, another action, another audience than the narrowed one.
    for form in ({"scope": "storage.read:/"}, {"scope": "storage.modify:/belle"},
                 {"scope": "storage.read:/belle/data/run1", "audience": "https://other.example.org"}):
        r = post_token(alice, grant_type=EXCHANGE, subject_token=narrow["access_token"], **form)
        assert r.status_code == 403, (form, r.text)
    # The narrowed token is for the storage element, not for this server.
    with alice.client(narrow["access_token"]) as http:
        assert http.get("/whoami").status_code == 403


def test_bad_requests_are_4xx_json(live_server) -> None:
    with live_server.client() as http:
        r = http.post("/token", data={"grant_type": "implicit"})
        assert r.status_code == 400 and r.json()["error"] == "INVALID_INPUT"
        r = http.post("/token", json={"grant_type": "password"})
        assert r.status_code == 400
        r = http.post("/token", data={"grant_type": "password", "username": "root"})
        assert r.status_code == 400
        r = http.post("/token", data={"grant_type": EXCHANGE, "subject_token": "not.a.jwt"})
        assert r.status_code == 401
