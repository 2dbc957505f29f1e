"""Fault tests with real `onegrid daemon conveyor` processes: two of them on one database
never copy a file twice; one killed with SIGKILL mid-transfer and restarted loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from tests_conftest_urls import POSTGRES
from transfer_harness import RECORDERS, Grid

from onegrid.transfers.tables import TransferHistory, TransferRequest

pytestmark = pytest.mark.skipif(not POSTGRES, reason="needs PostgreSQL (set ONEGRID_TEST_POSTGRES_URL)")


@pytest.fixture(autouse=True)
def _postgres_only(grid: Grid) -> None:
    if grid.runtime.settings.effective_database_url.startswith("sqlite"):
        pytest.skip("the fault tests share one PostgreSQL database between conveyor processes")


def _conveyor(grid: Grid, worker: str, tmp: Path, **settings: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "ONEGRID_DATABASE_URL": str(grid.runtime.settings.effective_database_url),
           "ONEGRID_SERVER_URL": grid.server.url, "ONEGRID_DATA_DIR": str(tmp / worker),  # type: ignore[attr-defined]
           "ONEGRID_LOG_LEVEL": "WARNING", **{f"ONEGRID_TRANSFERS__{k.upper()}": v for k, v in settings.items()}}
    log = (tmp / f"{worker}.log").open("wb")
    return subprocess.Popen([sys.executable, "-m", "onegrid", "daemon", "conveyor", "--worker-id", worker],
                            env=env, stdout=log, stderr=subprocess.STDOUT)


def _states(grid: Grid) -> dict[str, int]:
    with grid.runtime.reading() as s:
        return {st: int(n) for st, n in s.execute(sa.select(TransferRequest.state, sa.func.count())
                                                  .group_by(TransferRequest.state))}


def _wait(grid: Grid, pred, timeout: float) -> dict[str, int]:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        states = _states(grid)
        if pred(states):
            return states
        time.sleep(0.1)
    raise AssertionError(f"timed out: {_states(grid)}")


def _stop(*procs: subprocess.Popen[bytes]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def _files_on(root: Path) -> dict[str, Path]:
    return {p.name: p for p in root.rglob("*") if p.is_file() and ".onegrid" not in p.parts
            and not p.name.startswith(".onegrid")}


def test_two_conveyors_never_copy_the_same_file_twice(grid: Grid, tmp_path: Path) -> None:
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    names = [f"f{i:04d}.root" for i in range(300)]
    for n in names:
        grid.put_file("KEK-DISK", "belle", n, n.encode() * 50)
    grid.queue("belle", names, "DESY-DISK")
    procs = [_conveyor(grid, f"conveyor-{i}", tmp_path, batch_size="40", threads="8") for i in range(2)]
    try:
        _wait(grid, lambda st: st.get("DONE", 0) == len(names), 180)
    finally:
        _stop(*procs)
    copies = RECORDERS[dst.url].count("COPY")
    assert len(copies) == len(names) and set(copies.values()) == {1}
    with grid.runtime.reading() as s:
        workers = dict(s.execute(sa.select(TransferHistory.request_id, sa.func.count())
                                 .group_by(TransferHistory.request_id)).all())
    assert len(workers) == len(names) and set(workers.values()) == {1}
    on_disk = _files_on(dst.root)
    assert sorted(on_disk) == names
    assert all(on_disk[n].read_bytes() == n.encode() * 50 for n in names)


def test_conveyor_killed_mid_transfer_is_restarted_and_nothing_is_lost(grid: Grid, tmp_path: Path) -> None:
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    data = {f"big{i:02d}.root": os.urandom(1024) * (8 * 1024 + i) for i in range(12)}  # ~8 MiB each
    for n, d in data.items():
        grid.put_file("KEK-DISK", "belle", n, d)
    grid.queue("belle", list(data), "DESY-DISK")
    first = _conveyor(grid, "conveyor-a", tmp_path, lease_seconds="3", threads="4")
    try:
        _wait(grid, lambda st: st.get("SUBMITTED", 0) > 0, 60)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        _stop(first)
    killed_at = _states(grid)
    assert killed_at.get("DONE", 0) < len(data), killed_at  # the kill really was mid-work
    second = _conveyor(grid, "conveyor-b", tmp_path, lease_seconds="3", threads="4")
    try:
        _wait(grid, lambda st: st.get("DONE", 0) == len(data), 180)
    finally:
        _stop(second)
    on_disk = _files_on(dst.root)
    assert sorted(on_disk) == sorted(data)
    for n, d in data.items():
        got = on_disk[n].read_bytes()
        assert zlib.adler32(got) == zlib.adler32(d) and got == d
