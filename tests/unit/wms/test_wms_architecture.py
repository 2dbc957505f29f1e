"""Architecture rules of the WMS: every route declares who may call it; pure modules do no I/O."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from fastapi.routing import APIRoute

import onegrid.wms
from onegrid.wms import authz
from onegrid.wms.routes import jobs, pilots, productions, sites, transformations

DECLARED = {get_args(dep)[1].dependency for dep in (authz.Submitter, authz.Reader, authz.Canceller, authz.Modifier,
                                                     authz.PilotCaller, authz.Admin)}
PURE = ("matcher.py", "jdl.py", "status.py", "resource_tag.py", "production.py", "director.py", "models.py",
        "pilot/container.py")


def test_every_wms_route_declares_its_authorization() -> None:
    routes = [r for m in (jobs, pilots, productions, sites, transformations) for r in m.router.routes
              if isinstance(r, APIRoute)]
    assert len(routes) > 30
    for route in routes:
        deps = {d.call for d in route.dependant.dependencies}
        assert deps & DECLARED, f"{sorted(route.methods)} {route.path} declares no authorization"


def test_pure_modules_import_no_database_network_or_clock() -> None:
    root = Path(onegrid.wms.__file__).parent
    for name in PURE:
        tree = ast.parse((root / name).read_text())
        imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
            a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        for banned in ("sqlalchemy", "httpx", "subprocess", "onegrid.clock", "onegrid.runtime", "time"):
            assert not any(m == banned or m.startswith(banned + ".") for m in imported), f"{name} imports {banned}"
