"""Architecture of onegrid.iam: every route but the public OAuth/OIDC ones says who may call
it; the pure modules touch no database, network or clock."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.routing import APIRoute

import onegrid.iam
from onegrid.iam.deps import get_optional_principal, get_principal, get_root
from onegrid.iam.router import router
from onegrid.iam.routes_admin import router as admin_router

PUBLIC = {"/token", "/jwks", "/.well-known/openid-configuration"}  # before one has a token
PURE = ("scopes.py", "policies.py", "keys.py", "passwords.py")


def _routes() -> list[APIRoute]:
    # FastAPI keeps an included router as one entry: list the admin router's own routes.
    return [r for rt in (router, admin_router) for r in rt.routes if isinstance(r, APIRoute)]


def test_every_iam_route_declares_its_authorization() -> None:
    routes = _routes()
    assert {r.path for r in routes} >= PUBLIC | {"/whoami", "/iam/accounts", "/iam/groups", "/iam/policies"}
    for route in routes:
        if route.path in PUBLIC:
            continue
        deps = {d.call for d in route.dependant.dependencies}
        assert deps & {get_principal, get_optional_principal, get_root}, \
            f"{sorted(route.methods)} {route.path} declares no authorization"


def test_admin_routes_live_under_iam() -> None:
    for route in _routes():
        if route.path not in PUBLIC | {"/whoami"}:
            assert route.path.startswith("/iam/"), route.path


def test_pure_modules_import_no_database_network_or_clock() -> None:
    root = Path(onegrid.iam.__file__).parent
    for name in PURE:
        tree = ast.parse((root / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for banned in ("sqlalchemy", "httpx", "subprocess", "onegrid.clock", "onegrid.runtime", "time", "fastapi"):
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), f"{name} imports {banned}"
