"""Rules benchmark: the time to turn a rule on a 10,000-file dataset into its locks,
COPYING replicas and transfer requests, through the REST API with the stock Rucio
client's `add_replication_rule`, against `onegrid server` (SQLite, PostgreSQL) and,
when a venv with Rucio's server is given, Rucio's own server in the same run.

    python bench/rules/run.py                       # 10,000 files
    python bench/rules/run.py --quick               # 500 files, seconds
    python bench/rules/run.py --rucio-venv /tmp/rucio-venv   # also Rucio (pip install rucio gunicorn)

Both servers create the locks and requests synchronously inside `add_replication_rule`
(OneGrid's judge runs the same evaluation for asynchronous rules and attached files), so
the call's duration is the judge's work. Each target runs in its own subprocess; the
servers are started with bench/catalog/run.py's harness. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any


def _catalog_bench() -> Any:
    """bench/catalog/run.py (server start-up, the Rucio harness), under its own module name."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "catalog" / "run.py"
    spec = importlib.util.spec_from_file_location("catalog_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


catbench = _catalog_bench()
# Rucio's server needs its rules endpoint too.
catbench.RUCIO_CFG = catbench.RUCIO_CFG.replace("rses, scopes", "rses, rules, scopes")
SRC, DST = "BENCH-SRC", "BENCH-DST"
SCOPE = catbench.SCOPE
BATCH = 500  # Rucio's server on SQLite fails larger add_replicas calls (a database error)


def _setup(client: Any, files: int) -> str:
    run = uuid.uuid4().hex[:6]
    for rse in (SRC, DST):
        catbench._ignore_duplicate(client.add_rse, rse)
        catbench._ignore_duplicate(client.add_protocol, rse, {
            "scheme": "https", "hostname": f"{rse.lower()}.bench.example", "port": 443, "prefix": "/data",
            "impl": "rucio.rse.protocols.gfal.Default",
            "domains": {"lan": {"read": 1, "write": 1, "delete": 1},
                        "wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                                "third_party_copy_write": 1}}})
        catbench._ignore_duplicate(client.set_local_account_limit, "root", rse, 10**18)
    catbench._ignore_duplicate(client.add_scope, "root", SCOPE)
    dataset = f"{run}.dataset"
    client.add_dataset(SCOPE, dataset)
    for start in range(0, files, BATCH):
        part = [{"scope": SCOPE, "name": f"{run}.f{i:07d}", "bytes": 1_000_000 + i, "adler32": f"{i:08x}"}
                for i in range(start, min(files, start + BATCH))]
        client.add_replicas(SRC, part)
        client.attach_dids(SCOPE, dataset, [{"scope": SCOPE, "name": f["name"]} for f in part])
    return dataset


def analyze(pg_url: str, dbname: str) -> None:
    """PostgreSQL statistics as a production database has them. Without this, a fresh
    database's foreign-key checks keep the plans made while the tables were empty (a
    sequential scan per inserted row): both servers would measure that, not their work."""
    import sqlalchemy as sa

    url = str(sa.engine.make_url(pg_url).set(database=dbname, drivername="postgresql+psycopg")
              .render_as_string(hide_password=False))
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def workload(client: Any, files: int, after_setup: Any = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    dataset = _setup(client, files)
    setup = time.perf_counter() - t0
    if after_setup is not None:
        after_setup()
    t0 = time.perf_counter()
    (rule_id,) = client.add_replication_rule([{"scope": SCOPE, "name": dataset}], 1, DST)
    elapsed = time.perf_counter() - t0
    rule = client.get_replication_rule(rule_id)
    locks = rule["locks_ok_cnt"] + rule["locks_replicating_cnt"] + rule["locks_stuck_cnt"]
    assert locks == files, f"{locks} locks for {files} files"
    # A second rule on the same data, all replicas there already: locks OK at once.
    t0 = time.perf_counter()
    (ok_id,) = client.add_replication_rule([{"scope": SCOPE, "name": dataset}], 1, SRC)
    ok_elapsed = time.perf_counter() - t0
    assert client.get_replication_rule(ok_id)["locks_ok_cnt"] == files
    t0 = time.perf_counter()
    client.delete_replication_rule(rule_id)
    deleted = time.perf_counter() - t0
    return {"files": files, "setup_seconds": round(setup, 2),
            "rule_with_transfers": {"seconds": round(elapsed, 3), "locks_per_second": round(files / elapsed),
                                    "state": rule["state"]},
            "rule_on_existing_replicas": {"seconds": round(ok_elapsed, 3),
                                          "locks_per_second": round(files / ok_elapsed)},
            # Rucio's server only gives the rule an expiry here (its judge-cleaner removes the
            # locks later); OneGrid releases every lock and tombstones the replicas in the call.
            "rule_deletion": {"seconds": round(deleted, 3), "locks_per_second": round(files / deleted)}}


def start_rucio_postgres(venv: Path, workdir: Path, pg_url: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """Rucio's server on its production database, PostgreSQL (on SQLite its rule code
    fails above about 1,000 files: "Expression tree is too large"). Needs psycopg in
    the venv (`pip install psycopg[binary]`). Returns (process, URL, database name)."""
    import sqlalchemy as sa

    dbname = f"rucio_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(pg_url.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{dbname}"')
    admin.dispose()
    try:
        return _start_rucio_on(venv, workdir, dbname, str(sa.engine.make_url(pg_url).set(
            database=dbname, drivername="postgresql+psycopg").render_as_string(hide_password=False)))
    except Exception:
        catbench.drop_pg(pg_url, dbname)
        raise


def _start_rucio_on(venv: Path, workdir: Path, dbname: str, db_url: str) -> tuple[subprocess.Popen[bytes], str, str]:
    import sqlalchemy as sa

    cfg = catbench.RUCIO_CFG.replace("default = sqlite:///{db}", "default = " + db_url.replace("%", "%%"))
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import rucio, os; print(os.path.dirname(rucio.__file__))"],
                          check=True, capture_output=True, text=True).stdout.strip()
    server_cfg = workdir / "rucio-server.cfg"
    server_cfg.write_text(cfg.format(db="", workdir=workdir))
    template = (venv / "rucio" / "etc" / "alembic.ini.template").read_text().splitlines()
    ini = []
    for line in template:
        if line.startswith(("version_table_schema", "default =", "sqlalchemy.url", "script_location")):
            continue
        ini.append(line)
        if line.strip() == "[alembic]":
            ini += [f"sqlalchemy.url = {db_url}", f"script_location = {site}/db/sqla/migrate_repo"]
    (workdir / "alembic.ini").write_text("\n".join(ini) + "\n")
    env = {**os.environ, "RUCIO_CONFIG": str(server_cfg)}
    subprocess.run([str(python), "-c", "from rucio.db.sqla.util import build_database, create_root_account\n"
                    "build_database()\ncreate_root_account()"], env=env, check=True, capture_output=True)
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:  # the default VO, which Rucio's own bootstrap tool adds
        conn.exec_driver_sql("INSERT INTO vos VALUES ('def', 'default', 'bench@example.org', now(), now())")
    engine.dispose()
    port = catbench.free_port()
    log = open(workdir / "rucio-server.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([str(venv / "bin" / "gunicorn"), "-b", f"127.0.0.1:{port}", "-w", "1", "--timeout", "7200",
                             "rucio.web.rest.flaskapi.v1.main:application"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            if catbench.httpx.get(f"{url}/ping", timeout=1).status_code == 200:
                return proc, url, dbname
        except catbench.httpx.HTTPError:
            pass
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError(f"rucio server did not start: {(workdir / 'rucio-server.log').read_text()[-2000:]}")
        time.sleep(0.5)


def worker(args: argparse.Namespace) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"rulebench-{args.target}-"))
    proc, dbname = None, None
    try:
        if args.target == "rucio-postgres":
            proc, url, dbname = start_rucio_postgres(Path(args.rucio_venv), workdir, args.postgres_url)
            password, username = "secret", "ddmlab"
        elif args.target == "rucio":
            proc, url = catbench.start_rucio(Path(args.rucio_venv), workdir)
            password, username = "secret", "ddmlab"
        else:
            proc, url, dbname = catbench.start_onegrid(args.target, workdir, args.postgres_url)
            password, username = catbench.ROOT_PASSWORD, "root"
        client = catbench.rucio_client(url, password, workdir, username=username)
        target = {"rucio": "rucio-server-sqlite", "rucio-postgres": "rucio-server-postgres"}.get(
            args.target, f"onegrid-{args.target}")
        fresh_stats = (lambda: analyze(args.postgres_url, dbname)) if dbname else None
        return {"target": target, **workload(client, args.files, fresh_stats)}
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        if dbname:
            catbench.drop_pg(args.postgres_url, dbname)
        shutil.rmtree(workdir, ignore_errors=True)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="500 files")
    p.add_argument("--files", type=int, default=10_000)
    p.add_argument("--targets", default=None, help="comma list of sqlite, postgres, rucio, rucio-postgres")
    p.add_argument("--postgres-url", default=os.environ.get("ONEGRID_TEST_POSTGRES_URL"))
    p.add_argument("--rucio-venv", default=os.environ.get("RUCIO_BENCH_VENV"),
                   help="a venv with `pip install rucio gunicorn`: the benchmark starts Rucio's server from it")
    p.add_argument("--target", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.quick:
        args.files = 500
    if args.target:
        print(json.dumps(worker(args)))
        return
    targets = args.targets.split(",") if args.targets else (
        ["sqlite"] + (["postgres"] if args.postgres_url else [])
        + ([("rucio-postgres" if args.postgres_url else "rucio")] if args.rucio_venv else []))
    results = []
    for target in targets:
        cmd = [sys.executable, __file__, "--target", target, "--files", str(args.files)]
        for flag in ("postgres_url", "rucio_venv"):
            if getattr(args, flag):
                cmd += [f"--{flag.replace('_', '-')}", getattr(args, flag)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            results.append({"target": target, "error": proc.stderr.strip().splitlines()[-3:] or ["failed"]})
            continue
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    summary: dict[str, Any] = {}
    by = {r["target"]: r for r in results if "error" not in r}
    for peer in ("rucio-server-postgres", "rucio-server-sqlite"):
        if peer in by:
            rucio_s = by[peer]["rule_with_transfers"]["seconds"]
            for name, r in by.items():
                if name.startswith("onegrid"):
                    summary[f"{name}_speedup_vs_{peer}"] = round(rucio_s / r["rule_with_transfers"]["seconds"], 1)
    print(json.dumps({"benchmark": "rules", "quick": args.quick, "results": results, "summary": summary}, indent=2))


if __name__ == "__main__":
    main()
