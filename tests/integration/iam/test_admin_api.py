"""IAM administration under /iam: root does everything, a VO admin manages its VO only."""

from __future__ import annotations

import jwt
import pytest

from onegrid.iam.tables import AccountType


@pytest.fixture
def grid(live_server):  # type: ignore[no-untyped-def]
    """Root, a Belle II admin (member of /belle/admin), and an ordinary user."""
    with live_server.client(live_server.token("root")) as http:
        for path, role in (("/belle", False), ("/belle/admin", True), ("/lhcb", False)):
            assert http.post("/iam/groups", json={"path": path, "role": role}).status_code == 201
    live_server.add_account("vo-admin", password="admin-password", groups=("/belle", "/belle/admin"))
    live_server.add_account("carol", password="carol-password", groups=("/belle",))
    return live_server


def test_root_manages_accounts(grid) -> None:
    with grid.client(grid.token("root")) as http:
        r = http.post("/iam/accounts", json={"name": "dave", "password": "dave-password", "groups": ["/belle"],
                                             "email": "dave@example.org"})
        assert r.status_code == 201, r.text
        assert r.json()["status"] == "ACTIVE"
        assert http.post("/iam/accounts", json={"name": "dave"}).status_code == 409
        assert http.post("/iam/accounts", json={"name": "Bad Name"}).status_code == 400
        names = [a["name"] for a in http.get("/iam/accounts").json()]
        assert names == ["carol", "dave", "root", "vo-admin"]
        assert [a["name"] for a in http.get("/iam/accounts", params={"type": "ROOT"}).json()] == ["root"]
        shown = http.get("/iam/accounts/dave").json()
        assert shown["groups"] == ["/belle"] and shown["usernames"] == ["dave"]
        assert http.post("/iam/accounts/dave/suspend").json()["status"] == "SUSPENDED"
        assert http.post("/iam/accounts/dave/activate").json()["status"] == "ACTIVE"
        assert http.post("/iam/accounts/root/suspend").status_code == 409
        assert http.get("/iam/accounts/nobody").status_code == 404


def test_users_cannot_administer(grid) -> None:
    with grid.client(grid.token("carol")) as http:
        assert http.post("/iam/accounts", json={"name": "eve"}).status_code == 403
        assert http.get("/iam/accounts").status_code == 403
        assert http.get("/iam/accounts/carol").status_code == 200  # oneself
        assert http.get("/iam/accounts/root").status_code == 403
        assert http.post("/iam/accounts/vo-admin/suspend").status_code == 403
        assert http.post("/iam/groups", json={"path": "/belle/mine"}).status_code == 403
        assert http.post("/iam/policies", json={"rule": "PERMIT", "group": "/belle",
                                                "scopes": ["storage.modify:/"]}).status_code == 403
        assert http.get("/iam/groups").status_code == 200


def test_a_vo_admin_manages_its_vo_only(grid) -> None:
    with grid.client(grid.token("vo-admin")) as http:
        assert http.post("/iam/groups", json={"path": "/belle/production"}).status_code == 201
        assert http.post("/iam/groups", json={"path": "/lhcb/production"}).status_code == 403
        r = http.post("/iam/groups/members", json={"group": "/belle/production", "account": "carol"})
        assert r.status_code == 200, r.text
        assert http.get("/iam/groups/members", params={"group": "/belle/production"}).json() == ["carol"]
        assert http.post("/iam/groups/members", json={"group": "/lhcb", "account": "carol"}).status_code == 403
        r = http.post("/iam/policies", json={"rule": "PERMIT", "group": "/belle/production",
                                             "scopes": ["storage.modify:/belle/mc"]})
        assert r.status_code == 201, r.text
        policy_id = r.json()["id"]
        assert http.post("/iam/policies", json={"rule": "PERMIT", "account": "carol",
                                                "scopes": ["storage.modify:/"]}).status_code == 403
        assert http.post("/iam/policies", json={"rule": "PERMIT", "group": "/lhcb",
                                                "scopes": ["storage.modify:/"]}).status_code == 403
        listed = http.get("/iam/policies", params={"group": "/belle/production"}).json()
        assert [p["id"] for p in listed] == [policy_id]
        assert http.get("/iam/accounts").status_code == 200  # VO admins may read accounts
        groups = {g["path"]: g["members"] for g in http.get("/iam/groups", params={"under": "/belle"}).json()}
        assert groups == {"/belle": 2, "/belle/admin": 1, "/belle/production": 1}
    # carol now may receive what the policy permits
    with grid.client() as http:
        r = http.post("/token", data={"grant_type": "password", "username": "carol", "password": "carol-password",
                                      "scope": "storage.modify:/belle/mc/run2"})
    assert r.status_code == 200, r.text
    assert jwt.decode(r.json()["access_token"], options={"verify_signature": False})["scope"] == \
        "storage.modify:/belle/mc/run2"
    with grid.client(grid.token("vo-admin")) as http:
        assert http.delete(f"/iam/policies/{policy_id}").status_code == 200
        assert http.delete(f"/iam/policies/{policy_id}").status_code == 404
        r = http.delete("/iam/groups/members", params={"group": "/belle/production", "account": "carol"})
        assert r.status_code == 200
        assert http.get("/iam/groups/members", params={"group": "/belle/production"}).json() == []


def test_bad_policies_are_refused(grid) -> None:
    with grid.client(grid.token("root")) as http:
        for body in ({"rule": "PERMIT", "scopes": ["compute.read"]},
                     {"rule": "PERMIT", "scopes": ["compute.read"], "group": "/belle", "account": "carol"},
                     {"rule": "PERMIT", "scopes": [], "group": "/belle"},
                     {"rule": "MAYBE", "scopes": ["compute.read"], "group": "/belle"},
                     {"rule": "DENY", "matching": "REGEXP", "scopes": ["storage.read:(/"], "group": "/belle"},
                     {"rule": "DENY", "scopes": ["storage.read:relative"], "group": "/belle"}):
            r = http.post("/iam/policies", json=body)
            assert r.status_code == 400, (body, r.text)
            assert r.json()["error"] == "INVALID_INPUT"
        assert http.post("/iam/policies", json={"rule": "DENY", "group": "/nope",
                                                "scopes": ["compute.read"]}).status_code == 404


def test_service_account_type_is_kept(grid) -> None:
    grid.add_account("robot", type=AccountType.SERVICE)
    with grid.client(grid.token("root")) as http:
        assert http.get("/iam/accounts/robot").json()["type"] == "SERVICE"
