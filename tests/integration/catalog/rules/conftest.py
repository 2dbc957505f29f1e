"""A small grid in the catalogue for the rules tests: accounts, a scope, disk and tape
RSEs with attributes, and a helper that makes datasets of files with replicas."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from onegrid.catalog import dids, replicas, rses, scopes
from onegrid.iam import service as iam
from onegrid.runtime import Runtime

RSES = {
    "KEK-DISK": {"tier": 0, "site": "KEK"},
    "KEK-TAPE": {"tier": 0, "site": "KEK", "rse_type": "TAPE"},
    "DESY-DISK": {"tier": 1, "site": "DESY", "raw_share": 0},
    "BNL-TAPE": {"tier": 1, "site": "BNL", "rse_type": "TAPE", "raw_centre": True, "raw_share": 50},
    "CNAF-TAPE": {"tier": 1, "site": "CNAF", "rse_type": "TAPE", "raw_centre": True, "raw_share": 30},
    "DESY-TAPE": {"tier": 1, "site": "DESY", "rse_type": "TAPE", "raw_centre": True, "raw_share": 20},
}


@pytest.fixture
def grid(runtime: Runtime) -> Runtime:
    with runtime.transaction() as s:
        for account in ("alice", "bob"):
            iam.create_account(s, runtime.clock, account)
        scopes.add_scope(s, runtime.clock, "belle", "alice")
        for name, attrs in RSES.items():
            rses.add_rse(s, runtime.clock, name, rse_type=attrs.get("rse_type", "DISK"))
            for key, value in attrs.items():
                if key != "rse_type":
                    rses.set_attribute(s, name, key, value)
            rses.add_protocol(s, name, {"scheme": "https", "hostname": f"{name.lower()}.example", "port": 443,
                                        "prefix": "/belle"})
    return runtime


MakeDataset = Callable[..., list[dict]]


@pytest.fixture
def make_dataset(grid: Runtime) -> MakeDataset:
    """make_dataset(name, n, on=("KEK-DISK",), size=100) -> the files; replicas AVAILABLE."""

    def make(name: str, n: int, on: tuple[str, ...] = ("KEK-DISK",), size: int = 100, start: int = 0,
             meta: dict | None = None) -> list[dict]:
        files = [{"scope": "belle", "name": f"{name}.f{i:05d}", "bytes": size, "adler32": "0000abcd"}
                 for i in range(start, start + n)]
        with grid.transaction() as s:
            if not _exists(s, name):
                dids.add_dids(s, grid.clock, "alice", [{"scope": "belle", "name": name, "type": "DATASET",
                                                        "meta": meta or {}}])
            for rse in on:
                replicas.add_replicas(s, grid.clock, "alice", rse, files)
            if not on:
                dids.ensure_files(s, grid.clock, "alice", files)
            dids.attach(s, grid.clock, "belle", name, [{"scope": "belle", "name": f["name"]} for f in files])
        return files

    return make


def _exists(session, name: str) -> bool:  # type: ignore[no-untyped-def]
    from onegrid.catalog.tables import DID

    return session.get(DID, ("belle", name)) is not None
