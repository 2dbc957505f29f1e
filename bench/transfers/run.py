"""Transfer benchmark: small-file transfers/s end to end, and a large file's GB/s against `cp`.

`cp` is timed to its exit (data in the page cache, as the endpoints' writes are) and, as
`cp_then_sync`, until `sync` has put it on disk.

Two `onegrid storage` endpoints run as their own processes on loopback; the token issuer
(`onegrid server`'s app) runs in this process, and so does the conveyor, exactly as
`onegrid daemon conveyor` runs it (`Conveyor.run_once` until every request is DONE).
"End to end" = from the first conveyor cycle after the requests were queued to the last
destination replica marked AVAILABLE, with checksums verified and history written.

    python bench/transfers/run.py             # 2,000 small files, a 2 GB file
    python bench/transfers/run.py --quick     # seconds, for the test suite

For other benchmarks (the rules' judge): `transfer_grid(tmp, ...)` gives a running grid
(runtime, two RSEs, files registered on the source) and `drain(grid, ids)` runs the
conveyor until the given requests are terminal.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
import uvicorn

from onegrid.api import create_app
from onegrid.catalog import paths, replicas, rses, scopes
from onegrid.catalog.tables import Replica
from onegrid.clock import SystemClock
from onegrid.config import Settings
from onegrid.db.migrate import upgrade
from onegrid.iam import service as iam
from onegrid.iam.tables import AccountType
from onegrid.runtime import Runtime
from onegrid.storage.client.http import HttpStorage
from onegrid.transfers import service
from onegrid.transfers.agents import Conveyor
from onegrid.transfers.tables import TERMINAL_STATES, TransferRequest

SCOPE = "bench"
BASE = "/belle"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_http(url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.HTTPError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"{url} did not come up") from None
            time.sleep(0.05)


@dataclass
class Endpoint:
    name: str
    url: str
    root: Path
    proc: subprocess.Popen[bytes]
    rse_id: int = 0

    def path_of(self, name: str) -> Path:
        return self.root / paths.deterministic_path(SCOPE, name).lstrip("/")


@dataclass
class TransferGrid:
    runtime: Runtime
    issuer: str
    src: Endpoint
    dst: Endpoint
    tmp: Path
    conveyor: Conveyor
    _stops: list[Any] = field(default_factory=list)


def _start_endpoint(tmp: Path, name: str, issuer: str) -> Endpoint:
    root = tmp / name
    root.mkdir(parents=True)
    port = free_port()
    log = (tmp / f"{name}.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "onegrid", "storage", "--root", str(root), "--port", str(port),
                             "--base-path", BASE, "--issuer", issuer, "--name", name],
                            stdout=log, stderr=subprocess.STDOUT,
                            env={**os.environ, "ONEGRID_LOG_LEVEL": "WARNING"})
    url = f"http://127.0.0.1:{port}"
    _wait_http(url + "/", proc)
    return Endpoint(name=name, url=url, root=root, proc=proc)


def _serve_api(runtime: Runtime, port: int) -> Any:
    server = uvicorn.Server(uvicorn.Config(create_app(runtime), host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=10)

    return stop


@contextmanager
def transfer_grid(tmp: Path, *, database_url: str | None = None, threads: int = 32,
                  batch_size: int = 400) -> Iterator[TransferGrid]:
    """A server (token issuer), two storage endpoints and their RSEs, a conveyor."""
    url = database_url or f"sqlite:///{tmp / 'onegrid.db'}"
    upgrade(url)
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    settings = Settings(data_dir=tmp / "data", database_url=url, server_url=issuer, log_level="WARNING")
    settings.transfers = settings.transfers.model_copy(update={
        "threads": threads, "batch_size": batch_size, "initial_active": threads, "retry_delay": 1.0})
    rt = Runtime.create(settings, clock=SystemClock())
    rt.load_keys()
    stop_api = _serve_api(rt, port)
    src = _start_endpoint(tmp, "BENCH-SRC", issuer)
    dst = _start_endpoint(tmp, "BENCH-DST", issuer)
    try:
        with rt.transaction() as s:
            iam.create_account(s, rt.clock, "root", AccountType.ROOT)
    except Exception:  # already there (a reused database)
        pass
    with rt.transaction() as s:
        for ep in (src, dst):
            rse = rses.add_rse(s, rt.clock, ep.name)
            ep.rse_id = rse.id
            rses.set_attribute(s, ep.name, "site", ep.name)
            host, _, p = ep.url.split("://", 1)[1].partition(":")
            rses.add_protocol(s, ep.name, {"scheme": "http", "hostname": host, "port": int(p), "prefix": BASE})
        scopes.add_scope(s, rt.clock, SCOPE, "root")
    conveyor = Conveyor(runtime=rt, worker_id="bench-conveyor")
    grid = TransferGrid(runtime=rt, issuer=issuer, src=src, dst=dst, tmp=tmp, conveyor=conveyor)
    try:
        yield grid
    finally:
        conveyor.close()
        for ep in (src, dst):
            ep.proc.send_signal(signal.SIGTERM)
        for ep in (src, dst):
            try:
                ep.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                ep.proc.kill()
        stop_api()
        rt.close()


def put_files(grid: TransferGrid, files: dict[str, bytes]) -> None:
    """Write files on the source's disk and register their replicas (one bulk call)."""
    rows = []
    for name, data in files.items():
        p = grid.src.path_of(name)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        rows.append({"scope": SCOPE, "name": name, "bytes": len(data),
                     "adler32": f"{zlib.adler32(data) & 0xFFFFFFFF:08x}"})
    with grid.runtime.transaction() as s:
        replicas.add_replicas(s, grid.runtime.clock, "root", grid.src.name, rows)


def queue(grid: TransferGrid, names: list[str]) -> list[int]:
    """As the judge does: COPYING replicas at the destination and one request per file."""
    with grid.runtime.reading() as s:
        sizes = dict(s.execute(sa.select(Replica.name, Replica.bytes).where(
            Replica.scope == SCOPE, Replica.rse_id == grid.src.rse_id, Replica.name.in_(names))).all())
    with grid.runtime.transaction() as s:
        replicas.add_replicas(s, grid.runtime.clock, "root", grid.dst.name, [
            {"scope": SCOPE, "name": n, "bytes": sizes[n], "state": "COPYING"} for n in names])
        return service.queue_requests(s, grid.runtime.clock, [
            service.NewRequest(scope=SCOPE, name=n, dest_rse_id=grid.dst.rse_id, rule_id="bench") for n in names])


def drain(grid: TransferGrid, ids: list[int], timeout: float = 3600) -> dict[str, int]:
    """Run conveyor cycles until every request in `ids` is terminal; returns state counts."""
    terminal = [s.value for s in TERMINAL_STATES]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        grid.conveyor.run_once()
        with grid.runtime.reading() as s:
            left = s.scalar(sa.select(sa.func.count()).select_from(TransferRequest)
                            .where(TransferRequest.id.in_(ids), TransferRequest.state.not_in(terminal)))
        if not left:
            break
    with grid.runtime.reading() as s:
        return {st: int(n) for st, n in s.execute(
            sa.select(TransferRequest.state, sa.func.count()).where(TransferRequest.id.in_(ids))
            .group_by(TransferRequest.state))}


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU of a process (this one by default), from /proc."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_small(grid: TransferGrid, n: int, size: int) -> dict[str, Any]:
    files = {f"small/{i:06d}.root": os.urandom(size) for i in range(n)}
    put_files(grid, files)
    ids = queue(grid, list(files))
    cpu0 = {"conveyor": cpu_seconds(), "source": cpu_seconds(grid.src.proc.pid),
            "destination": cpu_seconds(grid.dst.proc.pid)}
    t0 = time.perf_counter()
    states = drain(grid, ids)
    seconds = time.perf_counter() - t0
    cpu = {"conveyor": cpu_seconds(), "source": cpu_seconds(grid.src.proc.pid),
           "destination": cpu_seconds(grid.dst.proc.pid)}
    ok = all(grid.dst.path_of(name).read_bytes() == data for name, data in files.items())
    return {"files": n, "file_bytes": size, "seconds": round(seconds, 3),
            "transfers_per_s": round(n / seconds, 1), "states": states, "all_bytes_verified": ok,
            "cpu_ms_per_transfer": {k: round(1000 * (cpu[k] - cpu0[k]) / n, 2) for k in cpu},
            "load_average_1m": round(os.getloadavg()[0], 2)}


def bench_large(grid: TransferGrid, size: int) -> dict[str, Any]:
    name = "large/big.root"
    p = grid.src.path_of(name)
    p.parent.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1 << 20)
    adler = 1
    with p.open("wb") as f:
        for _ in range(size // len(block)):
            f.write(block)
            adler = zlib.adler32(block, adler)
    with grid.runtime.transaction() as s:
        replicas.add_replicas(s, grid.runtime.clock, "root", grid.src.name, [
            {"scope": SCOPE, "name": name, "bytes": p.stat().st_size, "adler32": f"{adler & 0xFFFFFFFF:08x}"}])
    # A file uploaded through the storage has its checksum stored; this one was written on the
    # disk behind the endpoint's back, so have the endpoint compute it once before timing.
    url = f"{grid.src.url}{BASE}{paths.deterministic_path(SCOPE, name)}"
    with HttpStorage(token=grid.conveyor.mint([f"storage.read:{paths.deterministic_path(SCOPE, name)}"],
                                             grid.src.url)) as client:
        client.stat(url, checksums=True)
    cp_target = grid.tmp / "cp-copy.root"
    t0 = time.perf_counter()
    subprocess.run(["cp", str(p), str(cp_target)], check=True)
    cp_seconds = time.perf_counter() - t0
    os.sync()
    cp_sync_seconds = time.perf_counter() - t0
    cp_target.unlink()
    os.sync()
    ids = queue(grid, [name])
    t0 = time.perf_counter()
    states = drain(grid, ids)
    seconds = time.perf_counter() - t0
    gb = p.stat().st_size / 1e9
    return {"bytes": p.stat().st_size, "seconds": round(seconds, 3), "gb_per_s": round(gb / seconds, 3),
            "cp_seconds": round(cp_seconds, 3), "cp_gb_per_s": round(gb / cp_seconds, 3),
            "cp_then_sync_gb_per_s": round(gb / cp_sync_seconds, 3),
            "vs_cp": round(cp_seconds / seconds, 3), "states": states}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for the test suite")
    ap.add_argument("--files", type=int, default=None)
    ap.add_argument("--file-bytes", type=int, default=1024)
    ap.add_argument("--large-bytes", type=int, default=None)
    ap.add_argument("--threads", type=int, default=32)
    ap.add_argument("--db", default=os.environ.get("ONEGRID_BENCH_DATABASE_URL"),
                    help="database URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    files = args.files or (100 if args.quick else 2000)
    large = args.large_bytes or ((32 if args.quick else 2048) << 20)
    tmp = Path(tempfile.mkdtemp(prefix="onegrid-bench-transfers-"))
    try:
        with transfer_grid(tmp, database_url=args.db, threads=args.threads) as grid:
            result = {"benchmark": "transfers", "quick": args.quick,
                      "database": "postgresql" if args.db and args.db.startswith("postgres") else "sqlite",
                      "conveyor_threads": args.threads, "cpus": os.cpu_count(),
                      "small_files": bench_small(grid, files, args.file_bytes),
                      "large_file": bench_large(grid, large)}
        print(json.dumps(result, indent=2))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
