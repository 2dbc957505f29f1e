"""IAM benchmark: issuing and checking tokens, printed as JSON.

- `verify`: in-process token validation (signature by kid, times, audience, wlcg.ver),
  ours against the reference library `scitokens` (deserialize + Enforcer.test) on the
  same tokens, its keys already cached.
- `whoami`: authenticated requests over HTTP to a server on loopback (the dependency
  every route runs), sequential and with concurrent clients.
- `password_grant` (scrypt, slow by design), `exchange_grant` and `refresh_grant` over HTTP.

    python bench/iam/run.py            # thousands of tokens and requests
    python bench/iam/run.py --quick    # seconds, for the test suite
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from onegrid.api import create_app
from onegrid.clock import SystemClock
from onegrid.config import Settings
from onegrid.db.migrate import upgrade
from onegrid.iam import service
from onegrid.iam.issuer import mint
from onegrid.iam.tables import AccountType
from onegrid.iam.tokens import verify_token
from onegrid.runtime import Runtime

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"
ANY = "https://wlcg.cern.ch/jwt/v1/any"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve(rt: Runtime, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(create_app(rt), host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    return server


def rate(n: int, seconds: float) -> float:
    return round(n / seconds, 1) if seconds > 0 else 0.0


def bench_verify(rt: Runtime, n: int) -> dict[str, Any]:
    tokens = [mint(rt, "root", scopes=["storage.read:/belle", "compute.read"], groups=["/belle"], audience=ANY)
              for _ in range(n)]
    t0 = time.perf_counter()
    for tok in tokens:
        verify_token(tok, resolve_key=rt.resolve_key, trusted_issuers=[rt.issuer], audiences=[rt.issuer],
                     clock=rt.clock)
    ours = time.perf_counter() - t0
    out: dict[str, Any] = {"tokens": n, "onegrid_per_second": rate(n, ours)}
    try:
        import scitokens
    except ImportError:
        return out
    enforcer = scitokens.Enforcer(rt.issuer, audience=[rt.issuer, ANY])
    enforcer.add_validator("wlcg.ver", lambda v: str(v).startswith("1."))
    enforcer.add_validator("wlcg.groups", lambda v: isinstance(v, list))
    scitokens.SciToken.deserialize(tokens[0], insecure=True)  # fetch and cache the keys once
    t0 = time.perf_counter()
    ok = 0
    for tok in tokens:
        ok += enforcer.test(scitokens.SciToken.deserialize(tok, insecure=True), "storage.read", "/belle/x")
    peer = time.perf_counter() - t0
    out.update({"scitokens_per_second": rate(n, peer), "scitokens_accepted": ok})
    return out


def bench_whoami(url: str, token: str, n: int, workers: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url, headers=headers) as http:
        http.get("/whoami").raise_for_status()
        t0 = time.perf_counter()
        for _ in range(n):
            http.get("/whoami").raise_for_status()
        sequential = time.perf_counter() - t0

    def worker(count: int) -> None:
        with httpx.Client(base_url=url, headers=headers) as http:
            for _ in range(count):
                http.get("/whoami").raise_for_status()

    t0 = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, [n // workers] * workers))
    concurrent = time.perf_counter() - t0
    return {"requests": n, "sequential_per_second": rate(n, sequential),
            "concurrent_clients": workers, "concurrent_per_second": rate(n // workers * workers, concurrent)}


def timed_posts(http: httpx.Client, forms: list[dict[str, str]]) -> tuple[list[float], list[dict[str, Any]]]:
    latencies, answers = [], []
    for form in forms:
        t0 = time.perf_counter()
        r = http.post("/token", data=form)
        latencies.append(time.perf_counter() - t0)
        r.raise_for_status()
        answers.append(r.json())
    return latencies, answers


def summary(latencies: list[float]) -> dict[str, Any]:
    return {"requests": len(latencies), "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "per_second": rate(len(latencies), sum(latencies))}


def bench_grants(url: str, n_password: int, n_exchange: int) -> dict[str, Any]:
    with httpx.Client(base_url=url, timeout=60) as http:
        pw = [{"grant_type": "password", "username": "alice", "password": "alice-password", "audience": ANY}]
        lat_pw, answers = timed_posts(http, pw * n_password)
        subject = answers[0]["access_token"]
        ex = {"grant_type": EXCHANGE, "subject_token": subject, "scope": "storage.read:/belle/data",
              "audience": "https://se.example.org"}
        lat_ex, _ = timed_posts(http, [ex] * n_exchange)
        lat_rt, refresh = [], answers[-1]["refresh_token"]
        for _ in range(n_exchange):
            lat, (answer,) = timed_posts(http, [{"grant_type": "refresh_token", "refresh_token": refresh}])
            lat_rt += lat
            refresh = answer["refresh_token"]
    return {"password_grant": summary(lat_pw), "exchange_grant": summary(lat_ex), "refresh_grant": summary(lat_rt)}


def run(database_url: str | None, data: Path, quick: bool) -> dict[str, Any]:
    url_db = database_url or f"sqlite:///{data / 'onegrid.db'}"
    upgrade(url_db)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rt = Runtime.create(Settings(data_dir=data, database_url=url_db, server_url=url), clock=SystemClock())
    rt.load_keys()
    with rt.transaction() as s:
        service.create_account(s, rt.clock, "root", AccountType.ROOT)
        service.create_account(s, rt.clock, "alice")
        service.set_password(s, rt.clock, "alice", "alice", "alice-password")
        service.create_group(s, rt.clock, "/belle")
        service.add_member(s, rt.clock, "/belle", "alice")
    server = serve(rt, port)
    try:
        n = 200 if quick else 5000
        return {
            "database": "postgresql" if url_db.startswith("postgres") else "sqlite",
            "verify": bench_verify(rt, n),
            "whoami": bench_whoami(url, mint(rt, "root"), 100 if quick else 3000, 4),
            **bench_grants(url, 3 if quick else 30, 20 if quick else 300),
        }
    finally:
        server.should_exit = True
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--database-url", default=None, help="default: a SQLite file in a temporary folder")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["XDG_CACHE_HOME"] = str(Path(tmp) / "cache")  # scitokens' key cache
        result = run(args.database_url, Path(tmp), args.quick)
    json.dump(result, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
