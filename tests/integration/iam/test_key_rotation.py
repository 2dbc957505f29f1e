"""Key rotation: several keys in /jwks, the newest signs, older ones still verify."""

from __future__ import annotations

from datetime import timedelta

import jwt

from onegrid.iam import keyring
from onegrid.iam.tables import SigningKey


def test_rotation_publishes_both_keys_signs_with_the_new_and_old_tokens_verify(live_server) -> None:
    root = live_server.token("root")
    old_kid = jwt.get_unverified_header(root)["kid"]
    with live_server.client(root) as http:
        rotated = http.post("/iam/keys/rotate")
        assert rotated.status_code == 200, rotated.text
        new_kid = rotated.json()["kid"]
        assert new_kid != old_kid
        kids = [k["kid"] for k in http.get("/jwks").json()["keys"]]
        assert set(kids) == {old_kid, new_kid}
        keys = http.get("/iam/keys").json()
        assert [k["kid"] for k in keys if k["signing"]] == [new_kid]
        # The token signed with the old key still works.
        assert http.get("/whoami").status_code == 200
    with live_server.client() as http:
        http_token = http.post("/token", data={"grant_type": "password", "username": "root",
                                               "password": "root-password"}).json()["access_token"]
    assert jwt.get_unverified_header(http_token)["kid"] == new_kid
    fresh = live_server.token("root")
    assert jwt.get_unverified_header(fresh)["kid"] == new_kid


def test_only_root_rotates(live_server) -> None:
    live_server.add_account("alice")
    with live_server.client(live_server.token("alice")) as http:
        r = http.post("/iam/keys/rotate")
    assert r.status_code == 403 and "root" in r.json()["message"]


def test_old_keys_are_retired_once_no_token_they_signed_can_live(runtime, clock) -> None:
    retire_after = runtime.settings.iam.key_retire_after
    first = runtime.signing_key().kid
    clock.advance(60)
    with runtime.transaction() as session:
        second, retired = keyring.rotate(session, clock, alg="ES256", retire_after=retire_after)
    assert retired == []
    clock.advance(retire_after + 1)
    with runtime.transaction() as session:
        third, retired = keyring.rotate(session, clock, alg="ES256", retire_after=retire_after)
    assert retired == [first]
    runtime.load_keys()
    assert [k.kid for k in runtime.verification_keys()] == [third.kid, second.kid]
    assert runtime.signing_key().kid == third.kid
    with runtime.reading() as session:
        assert session.get(SigningKey, first).retired_at is not None  # type: ignore[union-attr]
    assert timedelta(seconds=retire_after) > timedelta(hours=6)  # longer than any access token
