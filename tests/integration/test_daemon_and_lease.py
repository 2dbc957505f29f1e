from __future__ import annotations

import threading
from datetime import UTC, datetime

import sqlalchemy as sa

from onegrid.clock import ManualClock
from onegrid.daemon import DaemonLoop
from onegrid.db.base import UtcDateTime
from onegrid.db.engine import make_engine, make_sessionmaker
from onegrid.db.lease import claim, release

md = sa.MetaData()
work = sa.Table(
    "lease_test_work", md,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("owner", sa.String(64)),
    sa.Column("lease_expires", UtcDateTime),
)


def _claim(sessions, owner: str, now: datetime, limit: int = 10) -> list[int]:
    with sessions.begin() as s:
        return claim(s, work, key=work.c.id, owner_col=work.c.owner, expires_col=work.c.lease_expires,
                     where=None, order_by=[work.c.id], limit=limit, owner=owner, now=now, lease_seconds=60)


def test_two_workers_never_claim_the_same_row_and_expired_leases_come_back(db_url: str) -> None:
    engine = make_engine(db_url)
    md.create_all(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        s.execute(work.insert(), [{"id": i} for i in range(200)])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    got: dict[str, list[int]] = {"a": [], "b": []}

    def worker(name: str) -> None:
        while ids := _claim(sessions, name, now, limit=7):
            got[name].extend(ids)

    threads = [threading.Thread(target=worker, args=(n,)) for n in got]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got["a"] + got["b"]) == list(range(200))
    assert not set(got["a"]) & set(got["b"])
    # Nothing is free until the leases expire; then a new worker takes over.
    assert _claim(sessions, "c", now) == []
    later = datetime(2026, 1, 1, 0, 2, tzinfo=UTC)
    assert _claim(sessions, "c", later, limit=5) == [0, 1, 2, 3, 4]
    with sessions.begin() as s:
        release(s, work, key=work.c.id, owner_col=work.c.owner, expires_col=work.c.lease_expires,
                keys=[0, 1], owner="c")
    assert _claim(sessions, "d", later, limit=2) == [0, 1]
    engine.dispose()


class _CountingAgent:
    name = "counting"
    idle_interval = 5.0

    def __init__(self) -> None:
        self.calls = 0

    def run_once(self) -> dict[str, int]:
        self.calls += 1
        if self.calls == 3:
            raise RuntimeError("a bad cycle")
        return {"done": 1 if self.calls < 5 else 0}


def test_daemon_loop_survives_a_failing_cycle_and_sleeps_when_idle(runtime) -> None:
    agent = _CountingAgent()
    clock: ManualClock = runtime.clock
    t0 = clock.time()
    totals = DaemonLoop(agent, runtime).run(max_cycles=6)
    assert agent.calls == 6
    assert totals["done"] == 3 and totals["errors"] == 1
    # the failing cycle and the one with nothing done each waited idle_interval; the last
    # cycle ends the run without waiting
    assert clock.time() - t0 == 2 * agent.idle_interval
