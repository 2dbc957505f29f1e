"""A source only on tape is recalled through the Tape REST API before it is copied:
stage (many files in one request per tape endpoint) → poll → copy → release."""

from __future__ import annotations

import time
from pathlib import Path

import sqlalchemy as sa
from transfer_harness import RECORDERS, Grid

from onegrid.catalog import paths
from onegrid.storage.client import Locality
from onegrid.storage.client.http import HttpStorage
from onegrid.storage.tape.settings import TapeSettings
from onegrid.transfers.tables import TransferRequest

FAST_TAPE = TapeSettings(migration_delay=0, buffer_capacity=10, high_watermark=0.9, low_watermark=0.1,
                         mount_latency=0.2, seek_time=0.01, throughput=1e9, tick=0.05, default_disk_lifetime=60)


def _states(grid: Grid) -> list[str]:
    with grid.runtime.reading() as s:
        return list(s.scalars(sa.select(TransferRequest.state).order_by(TransferRequest.id)))


def test_tape_only_sources_are_staged_then_copied_and_released(grid: Grid, tmp_path: Path) -> None:
    tape = grid.add_storage("KEK-TAPE", site="KEK", country="JP", tape=True, tape_settings=FAST_TAPE)
    dst = grid.add_storage("DESY-DISK", site="DESY")
    files = {f"raw{i}.root": bytes([65 + i]) * 5000 for i in range(4)}
    conveyor = grid.conveyor(stage_poll_interval=0.1)
    for name, data in files.items():  # written through the endpoint, so the tape system knows them
        src = tmp_path / name
        src.write_bytes(data)
        url = f"{tape.url}/belle{paths.deterministic_path('belle', name)}"
        HttpStorage(token=conveyor.mint(["storage.create:/", "storage.read:/"], tape.url), http=conveyor.http).put(
            src, url, verify=False)  # the fast tape may evict it before a read-back
        grid.put_file("KEK-TAPE", "belle", name, data, write=False)
    urls = [f"{tape.url}/belle{paths.deterministic_path('belle', n)}" for n in files]
    client = HttpStorage(token=conveyor.mint(["storage.stage:/", "storage.read:/"], tape.url), http=conveyor.http)
    deadline = time.monotonic() + 30  # migrated to tape and evicted from the disk buffer
    while set(client.archive_info(urls).values()) != {Locality.TAPE} and time.monotonic() < deadline:
        time.sleep(0.1)
    assert set(client.archive_info(urls).values()) == {Locality.TAPE}
    grid.queue("belle", list(files), "DESY-DISK")
    deadline = time.monotonic() + 60
    while _states(grid) != ["DONE"] * len(files) and time.monotonic() < deadline:
        conveyor.run_once()
        time.sleep(0.05)
    assert _states(grid) == ["DONE"] * len(files)
    for name, data in files.items():
        assert dst.path_of("belle", name).read_bytes() == data
    seen = RECORDERS[tape.url].seen
    stage_posts = [p for m, p in seen if m == "POST" and p.endswith("/stage")]
    assert len(stage_posts) == 1  # all four files in one stage request
    assert any(m == "POST" and "/release/" in p for m, p in seen)
