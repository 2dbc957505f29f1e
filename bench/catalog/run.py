"""Catalogue benchmark: bulk replica registration, a dataset's replica listing and a
metadata query, through the REST API with the stock Rucio client's calls, against
`onegrid server` on SQLite and PostgreSQL and (optionally) Rucio's own server.

    python bench/catalog/run.py                 # 1,000,000 files, 100,000-file dataset
    python bench/catalog/run.py --quick         # small sizes, seconds
    python bench/catalog/run.py --rucio-url http://127.0.0.1:PORT --rucio-password P  # also Rucio

Each target runs in its own subprocess (the Rucio client caches its configuration and
token per process). Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT_PASSWORD = "bench-root-password"
SCOPE = "bench"
RSE = "BENCH-DISK"
RUCIO_MAX_BATCH = 1000
# Rucio on SQLite builds one OR term per DID: above ~300 DIDs a call SQLite refuses it
# ("Expression tree is too large (maximum depth 1000)").
RUCIO_SQLITE_MAX_BATCH = 300
FILES_PER_RUN = 1000  # run_number = i // FILES_PER_RUN; the query selects 1 % of the runs


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- a onegrid server in a subprocess -------------------------------------------------


def start_onegrid(backend: str, workdir: Path, pg_url: str | None) -> tuple[subprocess.Popen[bytes], str, str | None]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    dbname = None
    if backend == "sqlite":
        db_url = f"sqlite:///{workdir / 'onegrid.db'}"
    else:
        import sqlalchemy as sa

        assert pg_url, "PostgreSQL needs --postgres-url or ONEGRID_TEST_POSTGRES_URL"
        dbname = f"onegrid_bench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
        admin.dispose()
        db_url = str(sa.engine.make_url(pg_url).set(database=dbname).render_as_string(hide_password=False))
    env = {**os.environ, "ONEGRID_DATABASE_URL": db_url, "ONEGRID_SERVER_URL": url,
           "ONEGRID_DATA_DIR": str(workdir / "data")}
    subprocess.run([sys.executable, "-m", "onegrid", "db", "init", "--root-password", ROOT_PASSWORD],
                   env=env, check=True, capture_output=True)
    log = open(workdir / "server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "onegrid", "server", "--port", str(port)], env=env,
                            stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"onegrid server did not start: {(workdir / 'server.log').read_text()[-2000:]}")
        time.sleep(0.2)
    return proc, url, dbname


def drop_pg(pg_url: str, dbname: str) -> None:
    import sqlalchemy as sa

    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
    admin.dispose()


# -- Rucio's own server from PyPI, on SQLite (the recipe of bench/README.md) -------------

RUCIO_CFG = """[common]
loglevel = WARNING
[database]
default = sqlite:///{db}
[bootstrap]
userpass_identity = ddmlab
userpass_pwd = secret
userpass_email = bench@example.org
[policy]
permission = generic
schema = generic
lfn2pfn_algorithm_default = hash
support = bench
support_rucio = bench
[api]
endpoints = accounts, auth, dids, ping, replicas, rses, scopes
[trace]
tracedir = {workdir}
[alembic]
cfg = {workdir}/alembic.ini
"""


def start_rucio(venv: Path, workdir: Path, pg_url: str | None = None) -> tuple[subprocess.Popen[bytes], str, str | None]:
    """Rucio's server from `venv` (gunicorn, one worker) on SQLite, or on a fresh database of
    the PostgreSQL at `pg_url` (needs `psycopg[binary]` in the venv). Returns (process, URL,
    PostgreSQL database name or None)."""
    import sqlalchemy as sa

    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import rucio, os; print(os.path.dirname(rucio.__file__))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    dbname = None
    if pg_url:
        dbname = f"rucio_catbench_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
        admin.dispose()
        db_url = str(sa.engine.make_url(pg_url).set(database=dbname, drivername="postgresql+psycopg")
                     .render_as_string(hide_password=False))
    else:
        db_url = f"sqlite:///{workdir / 'rucio.db'}"
    cfg = RUCIO_CFG.replace("default = sqlite:///{db}", "default = " + db_url.replace("%", "%%"))
    (workdir / "rucio.cfg").write_text(cfg.format(workdir=workdir))
    template = (venv / "rucio" / "etc" / "alembic.ini.template").read_text().splitlines()
    ini = []
    for line in template:
        if line.startswith(("version_table_schema", "default =", "sqlalchemy.url", "script_location")):
            continue
        ini.append(line)
        if line.strip() == "[alembic]":
            ini += [f"sqlalchemy.url = {db_url}", f"script_location = {site}/db/sqla/migrate_repo"]
    (workdir / "alembic.ini").write_text("\n".join(ini) + "\n")
    env = {**os.environ, "RUCIO_CONFIG": str(workdir / "rucio.cfg")}
    subprocess.run([str(python), "-c", "from rucio.db.sqla.util import build_database, create_root_account\n"
                    "build_database()\ncreate_root_account()"], env=env, check=True, capture_output=True)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # the default VO, which Rucio's own bootstrap tool adds
        conn.exec_driver_sql("INSERT INTO vos VALUES ('def', 'default', 'bench@example.org', "
                             "'2026-01-01 00:00:00', '2026-01-01 00:00:00')")
    engine.dispose()
    port = free_port()
    log = open(workdir / "rucio-server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(venv / "bin" / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "7200",
                             "rucio.web.rest.flaskapi.v1.main:application"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return proc, url, dbname
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"rucio server did not start: {(workdir / 'rucio-server.log').read_text()[-2000:]}")
        time.sleep(0.5)


# -- the workload, with the stock Rucio client -----------------------------------------


def rucio_client(url: str, password: str, workdir: Path, account: str = "root", username: str = "root") -> Any:
    cfg = workdir / "rucio.cfg"
    cfg.write_text(f"[client]\nrucio_host = {url}\nauth_host = {url}\nauth_type = userpass\n"
                   f"username = {username}\npassword = {password}\naccount = {account}\nrequest_retries = 1\n"
                   f"auth_token_file_path = {workdir / 'token'}\n")
    os.environ["RUCIO_CONFIG"] = str(cfg)
    from rucio.client import Client

    return Client(timeout=3600)


RUN = uuid.uuid4().hex[:6]  # names unique per run, so a reused Rucio database does not collide
DATASET = f"{RUN}.dataset"


def files_batch(start: int, count: int) -> list[dict[str, Any]]:
    return [{"scope": SCOPE, "name": f"{RUN}.file.{i:09d}.root", "bytes": 1_000_000 + i, "adler32": f"{i % 0xFFFFFFFF:08x}",
             "meta": {"run_number": i // FILES_PER_RUN}} for i in range(start, start + count)]


def _ignore_duplicate(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except Exception as exc:  # a reused Rucio database has them already
        if "Duplicate" not in type(exc).__name__ and "AlreadyExists" not in type(exc).__name__:
            raise


def workload(client: Any, files: int, dataset_files: int, batch: int, set_meta: bool) -> dict[str, Any]:
    _ignore_duplicate(client.add_rse, RSE)
    _ignore_duplicate(client.add_protocol, RSE, {"scheme": "https", "hostname": "se.bench.example", "port": 443, "prefix": "/data",
                              "impl": "rucio.rse.protocols.gfal.Default",
                              "domains": {"lan": {"read": 1, "write": 1, "delete": 1},
                                          "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                                                  "third_party_copy_write": 1}}})
    _ignore_duplicate(client.add_scope, "root", SCOPE)
    out: dict[str, Any] = {"files": files, "batch": batch}

    # 1. register replicas in bulk
    latencies = []
    t0 = time.perf_counter()
    for start in range(0, files, batch):
        part = files_batch(start, min(batch, files - start))
        if not set_meta:
            for f in part:
                f.pop("meta")
        t = time.perf_counter()
        client.add_replicas(RSE, part)
        latencies.append(time.perf_counter() - t)
    elapsed = time.perf_counter() - t0
    out["register"] = {"seconds": round(elapsed, 3), "files_per_second": round(files / elapsed),
                       "batch_latency_median_s": round(sorted(latencies)[len(latencies) // 2], 3),
                       "batch_latency_max_s": round(max(latencies), 3)}

    # 2. a dataset of dataset_files files, then list its replicas
    client.add_dataset(SCOPE, DATASET)
    t0 = time.perf_counter()
    for start in range(0, dataset_files, batch):
        dids = [{"scope": SCOPE, "name": f"{RUN}.file.{i:09d}.root"} for i in range(start, min(start + batch, dataset_files))]
        client.attach_dids(SCOPE, DATASET, dids)
    out["attach"] = {"files": dataset_files, "seconds": round(time.perf_counter() - t0, 3)}
    t0 = time.perf_counter()
    n = sum(1 for _ in client.list_replicas([{"scope": SCOPE, "name": DATASET}], schemes=["https"]))
    elapsed = time.perf_counter() - t0
    assert n == dataset_files, f"listed {n} of {dataset_files}"
    out["list_dataset_replicas"] = {"files": n, "seconds": round(elapsed, 3), "files_per_second": round(n / elapsed)}

    # 3. a metadata query selecting 1 % of the files
    runs = max(1, files // FILES_PER_RUN // 100)
    low = files // FILES_PER_RUN // 2
    filters = [{"run_number.gte": low, "run_number.lt": low + runs}]
    t0 = time.perf_counter()
    n = sum(1 for _ in client.list_dids(SCOPE, filters, did_type="file"))
    elapsed = time.perf_counter() - t0
    expected = min(files, (low + runs) * FILES_PER_RUN) - low * FILES_PER_RUN
    out["metadata_query"] = {"filter": filters, "matched": n, "expected": expected if set_meta else None,
                             "seconds": round(elapsed, 3)}
    return out


def onegrid_client_listing(url: str, token: str, dataset_files: int) -> dict[str, Any]:
    """The same listing with OneGrid's own client (less per-line work than the stock one)."""
    from onegrid.client import OneGridClient

    with OneGridClient(url, token, timeout=3600) as c:
        t0 = time.perf_counter()
        n = sum(1 for _ in c.catalog.list_replicas([{"scope": SCOPE, "name": DATASET}], schemes=["https"]))
        elapsed = time.perf_counter() - t0
    assert n == dataset_files
    return {"files": n, "seconds": round(elapsed, 3), "files_per_second": round(n / elapsed)}


def worker(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"catbench-{args.target}-"))
    proc = None
    dbname = rucio_pg = None
    try:
        if args.target in ("rucio", "rucio-postgres"):
            url, password, username = args.rucio_url, args.rucio_password, args.rucio_username
            if not url:
                on_pg = args.target == "rucio-postgres"
                proc, url, rucio_pg = start_rucio(Path(args.rucio_venv), workdir, args.postgres_url if on_pg else None)
                password, username = "secret", "ddmlab"
        else:
            proc, url, dbname = start_onegrid(args.target, workdir, args.postgres_url)
            password, username = ROOT_PASSWORD, "root"
        client = rucio_client(url, password, workdir, username=username)
        if args.target.startswith("rucio"):
            # Rucio's server validates bulk calls against a schema that allows at most
            # 1,000 DIDs per call (`maxItems`); larger batches are refused as InvalidObject.
            args.batch = min(args.batch, RUCIO_MAX_BATCH if args.target == "rucio-postgres" else RUCIO_SQLITE_MAX_BATCH)
        target = {"rucio": "rucio-server-sqlite", "rucio-postgres": "rucio-server-postgres"}.get(
            args.target, f"onegrid-{args.target}")
        result = {"target": target, **workload(client, args.files, args.dataset_files, args.batch, set_meta=True)}
        if not args.target.startswith("rucio"):
            result["list_dataset_replicas_onegrid_client"] = onegrid_client_listing(
                url, client.auth_token, args.dataset_files)
        return result
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        for name in (dbname, rucio_pg):
            if name:
                drop_pg(args.postgres_url, name)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="2,000 files, a 1,000-file dataset")
    p.add_argument("--files", type=int, default=1_000_000)
    p.add_argument("--dataset-files", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=10_000)
    p.add_argument("--targets", default=None, help="comma list of sqlite, postgres, rucio (on SQLite), "
                   "rucio-postgres (Rucio's server on the same PostgreSQL)")
    p.add_argument("--postgres-url", default=os.environ.get("ONEGRID_TEST_POSTGRES_URL"))
    p.add_argument("--rucio-url", default=os.environ.get("RUCIO_BENCH_URL"),
                   help="a running Rucio server (see bench/README.md)")
    p.add_argument("--rucio-venv", default=os.environ.get("RUCIO_BENCH_VENV"),
                   help="a venv with `pip install rucio gunicorn`: the benchmark starts Rucio's server from it")
    p.add_argument("--rucio-files", type=int, default=None,
                   help="files for Rucio's run (default: the same as --files)")
    p.add_argument("--rucio-username", default=os.environ.get("RUCIO_BENCH_USERNAME", "ddmlab"))
    p.add_argument("--rucio-password", default=os.environ.get("RUCIO_BENCH_PASSWORD", "secret"))
    p.add_argument("--target", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.files, args.dataset_files, args.batch = 2000, 1000, 500
    if args.target:
        print(json.dumps(worker(args)))
        return
    targets = args.targets.split(",") if args.targets else (
        ["sqlite"] + (["postgres"] if args.postgres_url else [])
        + ([("rucio-postgres" if args.postgres_url and args.rucio_venv else "rucio")]
           if args.rucio_url or args.rucio_venv else []))
    results = []
    for target in targets:
        files = args.rucio_files if target.startswith("rucio") and args.rucio_files else args.files
        cmd = [sys.executable, __file__, "--target", target, "--files", str(files),
               "--dataset-files", str(min(files, args.dataset_files)), "--batch", str(args.batch)]
        for flag in ("postgres_url", "rucio_url", "rucio_venv", "rucio_username", "rucio_password"):
            if getattr(args, flag):
                cmd += [f"--{flag.replace('_', '-')}", getattr(args, flag)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            results.append({"target": target, "error": proc.stderr.strip().splitlines()[-1:] or ["failed"]})
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(json.dumps({"benchmark": "catalog", "quick": args.quick, "results": results}, indent=2))


if __name__ == "__main__":
    main()
