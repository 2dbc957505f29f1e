"""Architecture of onegrid.catalog: every route says who may call it; the pure modules
touch no database, network or clock; nothing collides with the IAM routes."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.routing import APIRoute

import onegrid.catalog
from onegrid.catalog import routes_accounts, routes_dids, routes_replicas, routes_rses
from onegrid.iam.deps import get_optional_principal, get_principal, get_root
from onegrid.iam.router import router as iam_router

PUBLIC = {"/ping", "/auth/userpass"}  # as in Rucio: no token before logging in
PURE = ("rse_expression.py", "meta_filter.py", "paths.py", "errors.py")


def _routes() -> list[APIRoute]:
    return [r for m in (routes_accounts, routes_dids, routes_replicas, routes_rses) for r in m.router.routes
            if isinstance(r, APIRoute)]


def test_every_catalog_route_declares_its_authorization() -> None:
    routes = _routes()
    assert len(routes) > 60
    for route in routes:
        if route.path in PUBLIC:
            continue
        deps = {d.call for d in route.dependant.dependencies}
        assert deps & {get_principal, get_optional_principal, get_root}, \
            f"{sorted(route.methods)} {route.path} declares no authorization"


def test_catalog_routes_do_not_shadow_iam_routes() -> None:
    iam_paths = {r.path for r in iam_router.routes if isinstance(r, APIRoute)}
    ours = {r.path for r in _routes()}
    assert not iam_paths & ours
    assert not any(p.startswith(("/token", "/jwks", "/whoami", "/health", "/.well-known")) for p in ours)


def test_pure_modules_import_no_database_network_or_clock() -> None:
    root = Path(onegrid.catalog.__file__).parent
    for name in PURE:
        tree = ast.parse((root / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for banned in ("sqlalchemy", "httpx", "subprocess", "onegrid.clock", "onegrid.runtime", "time", "fastapi"):
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), f"{name} imports {banned}"
