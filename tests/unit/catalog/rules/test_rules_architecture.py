"""Architecture of onegrid.catalog.rules: every route declares who may call it, the pure
modules touch no database, network or clock, and the rule routes come before the
catalogue's generic DID routes they refine."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.routing import APIRoute

import onegrid.catalog.rules
from onegrid.catalog.router import router as catalog_router
from onegrid.catalog.rules import routes
from onegrid.iam.deps import get_optional_principal, get_principal, get_root

PURE = ("placement.py", "deletion.py", "errors.py")


def test_every_rules_route_declares_its_authorization() -> None:
    found = [r for r in routes.router.routes if isinstance(r, APIRoute)]
    assert len(found) >= 15
    for route in found:
        deps = {d.call for d in route.dependant.dependencies}
        assert deps & {get_principal, get_optional_principal, get_root}, \
            f"{sorted(route.methods)} {route.path} declares no authorization"


def test_rules_of_a_did_are_served_by_the_rules_routes() -> None:
    """`/dids/{scope}/{name}/rules` exists in both; the first included wins."""
    order = [getattr(r, "original_router", r) for r in catalog_router.routes]
    assert routes.router in order
    did_router = next(i for i, r in enumerate(order) if any(
        getattr(x, "path", "") == "/dids/{scope_name:path}/meta" for x in r.routes))
    assert order.index(routes.router) < did_router


def test_pure_modules_import_no_database_network_or_clock() -> None:
    root = Path(onegrid.catalog.rules.__file__).parent
    for name in PURE:
        tree = ast.parse((root / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for banned in ("sqlalchemy", "httpx", "subprocess", "onegrid.clock", "onegrid.runtime", "time", "fastapi"):
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), f"{name} imports {banned}"
