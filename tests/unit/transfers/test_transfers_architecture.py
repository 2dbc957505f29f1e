"""Architecture rules of the transfer service: every route says who may call it; pure
modules do no I/O; transfers never import the rules engine."""

from __future__ import annotations

import ast
from pathlib import Path

from fastapi.routing import APIRoute

import onegrid.transfers
from onegrid.iam.deps import get_principal, get_root
from onegrid.transfers.router import router

PURE = ("optimizer.py", "scheduler.py", "sources.py", "models.py")
ROOT = Path(onegrid.transfers.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}


def test_every_transfer_route_declares_its_authorization() -> None:
    routes = [r for r in router.routes if isinstance(r, APIRoute)]
    assert len(routes) >= 10
    for route in routes:
        deps = {d.call for d in route.dependant.dependencies}
        assert deps & {get_principal, get_root}, f"{sorted(route.methods)} {route.path} declares no authorization"
        if route.methods & {"PUT", "POST", "DELETE"}:
            assert get_root in deps, f"{sorted(route.methods)} {route.path} changes state without root"


def test_pure_modules_import_no_database_network_or_clock() -> None:
    for name in PURE:
        imported = _imports(ROOT / name)
        for banned in ("sqlalchemy", "httpx", "subprocess", "onegrid.clock", "onegrid.runtime", "time"):
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), f"{name} imports {banned}"


def test_transfers_never_import_the_rules_engine() -> None:
    for path in ROOT.rglob("*.py"):
        assert not any(m.startswith("onegrid.catalog.rules") for m in _imports(path)), path.name
