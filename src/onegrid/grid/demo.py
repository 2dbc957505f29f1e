"""`onegrid demo`: a whole grid in a fresh folder, and a scripted experiment day on it.

Each act is a function of the `Demo` (the running grid, a root client, a user client and a
console); it drives the grid only through the REST API, as people and programs would, and
waits for the daemons to do their part with a progress bar. The acts follow the Belle II
computing report: RAW at the tier 0 copied to tape at a RAW data centre, the report's
multicore production on pilots, a user's analysis, and a bad day (a banned site, a storage
endpoint down).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from onegrid.client import OneGridClient
from onegrid.clock import Clock
from onegrid.errors import Unavailable
from onegrid.grid.up import Grid

# The production definition of the seed's "Multicore Jobs" slide (5 jobs of 200 events).
SEED_PRODUCTION = {
    "ProductionName": "MCTest_charged_BGx0",
    "ProductionGroup": "charged",
    "RunEvents": {"1003": {"0": 1000}},
    "MaxJobEvents": 200,
    "Stream": 0,
    "ResourceTag": "MultiCore,EL7orEL8",
    "OutputDataType": "mdst",
}

# Settings that make a one-machine grid lively: pilots poll every second, the daemons
# look for work twice a second.
DEMO_ENV = {
    "ONEGRID_WMS__PILOT_POLL_SECONDS": "1",
    "ONEGRID_WMS__HEARTBEAT_SECONDS": "5",
    "ONEGRID_WMS__PILOT_IDLE_SECONDS": "20",
    "ONEGRID_WMS__JOBS_PER_PILOT": "2",
    "ONEGRID_WMS__AGENT_IDLE_SECONDS": "0.5",
    "ONEGRID_STORAGE__MARKER_INTERVAL": "1",
    "ONEGRID_STORAGE__TAPE__MIGRATION_DELAY": "2",
    "ONEGRID_STORAGE__TAPE__MOUNT_LATENCY": "2",
    "ONEGRID_STORAGE__TAPE__SEEK_TIME": "0.5",
    "ONEGRID_STORAGE__TAPE__TICK": "0.2",
    "ONEGRID_TRANSFERS__RETRY_DELAY": "2",
    "ONEGRID_TRANSFERS__STAGE_POLL_INTERVAL": "1",
    "ONEGRID_MONITOR__HISTORY_HOURS": "1",
    "ONEGRID_MONITOR__BUCKET_MINUTES": "1",
}


@dataclass
class Demo:
    grid: Grid
    root: OneGridClient
    user: OneGridClient
    console: Console
    clock: Clock
    facts: dict[str, Any] = field(default_factory=dict)

    def act(self, number: int, title: str) -> None:
        self.console.rule(f"[bold]{number}. {title}")

    def say(self, text: str) -> None:
        self.console.print(f"  {text}")

    def wait(self, what: str, total: int, done: Callable[[], int], *, timeout: float = 120,
             step: float = 0.5) -> None:
        """A progress bar of `done()` out of `total`, until all are done or the time is up."""
        columns = (TextColumn("  {task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        deadline = self.clock.monotonic() + timeout
        with Progress(*columns, console=self.console, transient=False) as bar:
            task = bar.add_task(what, total=total)
            while True:
                n = done()
                bar.update(task, completed=n)
                if n >= total:
                    return
                if self.clock.monotonic() > deadline:
                    raise Unavailable(f"{what}: {n} of {total} after {timeout:.0f}s; see the logs in "
                                      f"{self.grid.layout.log_dir}")
                self.clock.sleep(step)


def act_production(demo: Demo) -> None:
    """The seed's multicore MC production on pilots at the sites whose platform fits."""
    demo.act(2, "Monte-Carlo production MCTest_charged_BGx0 (MultiCore, EL7orEL8)")
    import json

    prod = demo.root.wms.submit_production(json.dumps(SEED_PRODUCTION))
    ref = int(prod["production_id"])
    jobs = prod["jobs"]
    demo.say(f"production {ref}: {len(jobs)} jobs of ≤ 200 events; the site director sends multicore pilots")

    def done() -> int:
        states = [j["status"] for j in demo.root.wms.jobs(production=ref)]
        failed = [s for s in states if s in ("Failed", "Killed")]
        if failed:
            raise Unavailable(f"production jobs failed: {states}")
        return states.count("Done")

    demo.wait("jobs Done", len(jobs), done, timeout=180)
    finished = demo.root.wms.jobs(production=ref)
    sites = sorted({j.get("site") or "?" for j in finished})
    demo.say(f"ran at {', '.join(sites)} (EL7/EL8 multicore queues only)")
    demo.facts["production"] = ref
    demo.facts["production_jobs"] = finished


# RAW runs of experiment 30 arriving at the tier 0: a few small files each.
RAW_EXPERIMENT = 30
RAW_RUNS = (1234, 1235, 1236)
RAW_FILES_PER_RUN = 4
RAW_FILE_BYTES = 2 * 1024 * 1024


def _content(label: str, size: int) -> bytes:
    """Reproducible bytes for a demo file (no randomness needed)."""
    import hashlib

    return hashlib.shake_256(label.encode()).digest(size)


def raw_dataset(run: int) -> str:
    return f"/belle/Raw/e{RAW_EXPERIMENT:04d}/r{run:05d}"


def act_raw(demo: Demo) -> None:
    """RAW runs arrive at KEK; the RAW subscription copies them to tape at KEK and at one
    RAW data centre chosen by shares, through third-party copies."""
    from onegrid.storage.client.upload import UploadItem, upload

    demo.act(1, "RAW data arrives at KEK; the RAW subscription copies it to tape")
    folder = demo.grid.layout.data_dir / "demo" / "raw"
    folder.mkdir(parents=True, exist_ok=True)
    items_by_run: dict[int, list[UploadItem]] = {}
    for run in RAW_RUNS:
        ds = raw_dataset(run)
        meta = {"datatype": "RAW", "experiment": RAW_EXPERIMENT, "run_number": run, "stream_name": "physics",
                "project": f"exp{RAW_EXPERIMENT}"}
        demo.root.catalog.add_dataset("raw", ds, meta=meta)
        items = []
        for i in range(RAW_FILES_PER_RUN):
            name = f"raw.physics.{RAW_EXPERIMENT:04d}.{run:05d}.HLT{i % 2 + 1}.f{i:05d}.root"
            path = folder / name
            path.write_bytes(_content(name, RAW_FILE_BYTES))
            items.append(UploadItem(path, "raw", f"{ds}/{name}", meta))
        items_by_run[run] = items
    total = sum(len(v) for v in items_by_run.values())
    uploaded = [0]

    def upload_all() -> int:
        for run, items in items_by_run.items():
            results = upload(demo.root.catalog, items, rse="KEK-DISK", dataset={"scope": "raw", "name": raw_dataset(run)},
                             storage_token=demo.root.transport.token)
            failed = [r for r in results if r.state == "FAILED"]
            if failed:
                raise Unavailable(f"upload of {failed[0].item.name} failed: {failed[0].error}")
            uploaded[0] += len(results)
        return uploaded[0]

    demo.wait(f"RAW files uploaded to KEK-DISK ({RAW_FILE_BYTES // 2**20} MB each)", total, upload_all)
    demo.say(f"{len(RAW_RUNS)} runs, {total} files registered with metadata datatype=RAW, run_number, stream")

    def rules() -> list[dict[str, Any]]:
        return [r for run in RAW_RUNS for r in demo.root.transport.stream_lines(
            "GET", f"/dids/raw/{quote_plus(raw_dataset(run))}/rules")]

    def locks_ok() -> int:
        found = rules()
        stuck = [r for r in found if r.get("state") == "STUCK"]
        if stuck:
            raise Unavailable(f"rule {stuck[0]['id']} is stuck: {stuck[0].get('error')}")
        return sum(int(r.get("locks_ok_cnt", 0)) for r in found)

    demo.wait("tape copies (judge → conveyor → HTTP-TPC)", 2 * total, locks_ok,
              timeout=240)
    placed: dict[str, int] = {}
    for entry in demo.root.catalog.list_replicas([{"scope": "raw", "name": raw_dataset(run)} for run in RAW_RUNS]):
        for rse in entry.get("states", {}):
            placed[rse] = placed.get(rse, 0) + 1
    demo.say("replicas per RSE: " + ", ".join(f"{rse} {n}" for rse, n in sorted(placed.items())))
    demo.facts["raw_rses"] = placed


# A user's analysis: reads its input files, counts events and tracks, writes a histogram.
ANALYSIS = """
import json, sys
counts = {}
events = 0
for path in sys.argv[1:]:
    with open(path) as f:
        header = json.loads(f.readline())
        for line in f:
            n = len(json.loads(line)["tracks"])
            counts[n] = counts.get(n, 0) + 1
            events += 1
json.dump({"events": events, "tracks_per_event": dict(sorted(counts.items()))}, open("histogram.json", "w"))
print("analysed", events, "events")
"""


def _sandbox(files: dict[str, bytes]) -> bytes:
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))
    return buf.getvalue()


def _wait_jobs(demo: Demo, ids: list[int], what: str, timeout: float = 120) -> list[dict[str, Any]]:
    def done() -> int:
        states = [demo.user.wms.job(i)["status"] for i in ids]
        bad = [s for s in states if s in ("Failed", "Killed")]
        if bad:
            raise Unavailable(f"{what}: jobs {states}; see {demo.grid.layout.log_dir}")
        return states.count("Done")

    demo.wait(what, len(ids), done, timeout=timeout)
    return [demo.user.wms.job(i) for i in ids]


def act_analysis(demo: Demo) -> None:
    """alice finds the production's files by metadata, analyses those at one site with a
    job that reads them as input data, and downloads the job's output."""
    from onegrid.storage.client.download import download

    demo.act(3, "A user's analysis: find data by metadata, run on it, download the result")
    query = f"datatype=mdst,project={SEED_PRODUCTION['ProductionName']},run_number>=1000"
    names = list(demo.user.catalog.list_dids("belle", query, did_type="file"))
    demo.say(f"alice: onegrid did list belle --type file --filter '{query}'  →  {len(names)} files")
    if not names:
        raise Unavailable("the production registered no output the user can find")
    by_rse: dict[str, list[str]] = {}
    for entry in demo.user.catalog.list_replicas([{"scope": "belle", "name": n} for n in names]):
        for rse in entry.get("states", {}):
            by_rse.setdefault(rse, []).append(entry["name"])
    rse, inputs = max(by_rse.items(), key=lambda kv: (len(kv[1]), kv[0]))
    sb = demo.user.wms.upload_sandbox(_sandbox({"analysis.py": ANALYSIS.encode()}))
    args = " ".join(Path(n).name for n in inputs)
    [job_id] = demo.user.wms.submit([{
        "Executable": "python", "Arguments": f"analysis.py {args}", "InputSandbox": [sb],
        "InputData": [f"belle:{n}" for n in inputs], "OutputData": ["histogram.json"],
        "OutputPath": "/belle/user/alice/analysis/charged", "JobName": "charged-tracks", "CPUTime": 600}])
    demo.say(f"job {job_id} reads {len(inputs)} files on {rse}; it goes where they are")
    [job] = _wait_jobs(demo, [job_id], "analysis job Done")
    demo.say(f"ran at {job['site']}; output registered as user.alice:/belle/user/alice/analysis/charged/histogram.json")
    folder = demo.grid.layout.data_dir / "demo" / "alice"
    results = download(demo.user.catalog, [{"scope": "user.alice", "name": "/belle/user/alice/analysis/charged/histogram.json"}],
                       folder, storage_token=demo.user.transport.token)
    bad = [r for r in results if r.state not in ("DONE", "ALREADY_PRESENT")]
    if bad:
        raise Unavailable(f"download failed: {bad[0].error}")
    import json

    histogram = json.loads(results[0].dest.read_text())
    demo.say(f"onegrid download → {results[0].dest} (adler32 {results[0].adler32} checked): "
             f"{histogram['events']} events analysed")
    demo.facts["analysis"] = histogram


def act_bad_day(demo: Demo) -> None:
    demo.act(4, "A bad day: a site is banned, a storage endpoint goes down")
    act_site_ban(demo)
    act_storage_down(demo)


def act_site_ban(demo: Demo) -> None:
    """A site is banned: the work that could have gone there runs at the other site."""
    demo.root.wms.ban_site("BNL", "demo: cooling failure")
    demo.say("BNL banned (cooling failure); 4 jobs that may run at BNL or Napoli are submitted")
    payload = b"import platform; print('hello from', platform.node())"
    sb = demo.user.wms.upload_sandbox(_sandbox({"hello.py": payload}))
    ids = demo.user.wms.submit([{"Executable": "python", "Arguments": "hello.py", "InputSandbox": [sb],
                                 "Site": ["BNL", "Napoli"], "JobName": f"hello_{i}", "CPUTime": 60}
                                for i in range(4)])
    jobs = _wait_jobs(demo, ids, "jobs Done")
    sites = sorted({j["site"] for j in jobs})
    demo.say(f"they ran at {', '.join(sites)}")
    demo.root.wms.allow_site("BNL", "demo: cooling repaired")
    demo.facts["ban"] = sites


def act_storage_down(demo: Demo) -> None:
    """KEK's disk endpoint goes down while a run is replicated to Napoli: the transfers
    fail over to the run's tape replicas (staged through the Tape REST API)."""
    demo.say("KEK-DISK's storage endpoint stops; a rule asks for run "
             f"{RAW_RUNS[0]} at NAPOLI-DISK (for a local analysis group)")
    demo.grid.supervisor.stop("storage-KEK-DISK")
    ds = raw_dataset(RAW_RUNS[0])
    try:
        [rule_id] = demo.root.transport.json("POST", "/rules/", json={
            "dids": [{"scope": "raw", "name": ds}], "copies": 1, "rse_expression": "NAPOLI-DISK",
            "activity": "Data Rebalancing", "comment": "demo: KEK-DISK is down"})

        def locks_ok() -> int:
            rule = demo.root.transport.json("GET", f"/rules/{rule_id}")
            if rule.get("state") == "STUCK":
                raise Unavailable(f"rule {rule_id} is stuck: {rule.get('error')}")
            return int(rule.get("locks_ok_cnt", 0))

        demo.wait("files at NAPOLI-DISK", RAW_FILES_PER_RUN, locks_ok, timeout=180)
        requests = demo.root.transport.json("GET", "/transfers/requests", params={"rule_id": rule_id})
        sources = sorted({str(r["source_se"]) for r in requests if r["state"] == "DONE"})
        demo.say(f"copied from {', '.join(sources)} instead of the KEK-DISK endpoint that was down")
        demo.facts["failover_sources"] = sources
    finally:
        demo.grid.restart_storage("KEK-DISK")


def summary(demo: Demo) -> None:
    from rich.table import Table

    demo.act(5, "Summary")
    t = demo.root.transport
    overview = t.json("GET", "/monitor/api/overview")
    demo.say(f"catalogue: {overview['files']} files, {overview['bytes'] / 1e6:.1f} MB in replicas")
    table = Table(title="transfers per activity")
    for col in ("activity", "state", "transfers", "MB"):
        table.add_column(col, justify="right" if col in ("transfers", "MB") else "left")
    for row in sorted(t.json("GET", "/monitor/api/transfers/states"), key=lambda r: (r["activity"], r["state"])):
        table.add_row(str(row["activity"]), str(row["state"]), str(row["requests"]), f"{row['bytes'] / 1e6:.1f}")
    demo.console.print(table)
    jobs = demo.root.wms.jobs(limit=10_000)
    per_site: dict[tuple[str, str], int] = {}
    for j in jobs:
        key = (j.get("site") or "-", j["status"])
        per_site[key] = per_site.get(key, 0) + 1
    table = Table(title="jobs per site and state")
    table.add_column("site")
    table.add_column("state")
    table.add_column("jobs", justify="right")
    for (site, state), n in sorted(per_site.items()):
        table.add_row(site, state, str(n))
    demo.console.print(table)
    acct = demo.root.wms.accounting("activity")
    table = Table(title="CPU per activity")
    table.add_column("activity")
    table.add_column("jobs", justify="right")
    table.add_column("CPU hours", justify="right")
    for row in acct:
        table.add_row(str(row["activity"]), str(row["jobs"]), f"{float(row['cpu_seconds']) / 3600:.4f}")
    demo.console.print(table)
    demo.console.print(f"dashboard: [bold]{demo.grid.layout.server_url}/[/bold]")


ACTS: list[Callable[[Demo], None]] = [act_raw, act_production, act_analysis, act_bad_day, summary]


def run_demo(data_dir: Path, *, port: int, console: Console, clock: Clock, keep: bool = False,
             acts: Sequence[Callable[[Demo], None]] = ACTS) -> Demo:
    """`onegrid up` in `data_dir`, the acts, and (unless `keep`) a clean stop."""
    grid = Grid.plan(data_dir, port=port, clock=clock, extra_env=DEMO_ENV)
    console.rule("[bold]OneGrid demo: one experiment day on a whole grid on this machine")
    try:
        with console.status("starting the grid") as status:
            grid.start(on_step=lambda step: status.update(f"starting {step}"))
        console.print(f"  {len(grid.sites.site)} sites, {len(grid.sites.storage_elements)} storage endpoints, "
                      f"{len(grid.sites.queues)} compute queues; server {grid.layout.server_url}")
        with grid.root_client() as root, grid.user_client() as user:
            demo = Demo(grid=grid, root=root, user=user, console=console, clock=clock)
            for act in acts:
                act(demo)
            if keep:
                console.print("the grid stays up; Ctrl-C stops it")
                try:
                    while not grid.supervisor.dead():
                        clock.sleep(1)
                except KeyboardInterrupt:
                    pass
            return demo
    finally:
        with console.status("stopping the grid"):
            grid.stop()
        console.print("grid stopped")
