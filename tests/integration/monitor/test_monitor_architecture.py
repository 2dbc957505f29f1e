"""Architecture rules of the monitor: every route names its reader, nothing writes, the
exposition format is pure, and optional tables are looked up in the metadata only."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import get_args

from fastapi.routing import APIRoute

import onegrid.monitor
from onegrid.monitor import access
from onegrid.monitor.router import api, router

READERS = {get_args(dep)[1].dependency for dep in (access.Anyone, access.SummaryReader, access.DetailReader)}
ROOT = Path(onegrid.monitor.__file__).parent


def test_every_monitor_route_names_its_reader_and_only_reads() -> None:
    routes = [r for r in (*router.routes, *api.routes) if isinstance(r, APIRoute)]
    assert len(routes) >= 17
    for route in routes:
        assert route.methods == {"GET"}, f"{route.path} is not read-only"
        deps = {d.call for d in route.dependant.dependencies}
        assert deps & READERS, f"{route.path} declares no reader"


def test_monitor_never_writes_or_swallows_sql_errors() -> None:
    for path in ROOT.glob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                call = f"{node.value.id}.{node.attr}"
                assert call not in ("sa.insert", "sa.update", "sa.delete", "session.add", "session.delete",
                                    "session.merge", "session.commit", "runtime.transaction"), \
                    f"{path.name} uses {call}"
            if isinstance(node, ast.ExceptHandler):
                raise AssertionError(f"{path.name}:{node.lineno} catches an exception")


def test_exposition_is_pure() -> None:
    tree = ast.parse((ROOT / "exposition.py").read_text())
    imported = {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    for banned in ("sqlalchemy", "httpx", "onegrid.clock", "onegrid.runtime", "fastapi"):
        assert not any(m == banned or m.startswith(banned + ".") for m in imported), banned


def test_static_files_of_the_dashboard_ship_in_the_package() -> None:
    from onegrid.monitor.router import STATIC, STATIC_FILES

    for relative in [*STATIC_FILES.values(), "index.html"]:
        assert STATIC.joinpath(relative).is_file(), relative
    for own in ("index.html", "app.js", "style.css"):  # no CDN: the machines have no internet
        text = STATIC.joinpath(own).read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, own
