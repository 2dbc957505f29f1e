"""Usage counters are made and moved in one statement: two transactions that create the
first counter of an RSE (or of an account on it) at the same time both succeed."""

from __future__ import annotations

import threading

import sqlalchemy as sa

from onegrid.catalog import accounting, rses
from onegrid.catalog.tables import AccountUsage, RSEUsage
from onegrid.iam import service as iam
from onegrid.runtime import Runtime


def test_two_transactions_create_the_same_counters_at_once(runtime: Runtime) -> None:
    with runtime.transaction() as s:
        rse_id = rses.add_rse(s, runtime.clock, "NEW-DISK").id
        iam.create_account(s, runtime.clock, "alice")
    first_in = threading.Event()
    errors: list[BaseException] = []

    def second() -> None:
        try:
            first_in.wait(10)
            with runtime.transaction() as s:  # waits for the first transaction's row
                rses.add_catalog_usage(s, runtime.clock, rse_id, 2, 200)
                accounting.add_account_usage(s, runtime.clock, "alice", rse_id, 2, 200)
        except BaseException as exc:
            errors.append(exc)

    t = threading.Thread(target=second)
    t.start()
    with runtime.transaction() as s:
        rses.add_catalog_usage(s, runtime.clock, rse_id, 1, 100)
        accounting.add_account_usage(s, runtime.clock, "alice", rse_id, 1, 100)
        first_in.set()
        t.join(0.5)  # the second one is now waiting on us (PostgreSQL) or on the write lock (SQLite)
    t.join(20)
    assert errors == []
    with runtime.reading() as s:
        usage = s.execute(sa.select(RSEUsage.files, RSEUsage.used).where(RSEUsage.rse_id == rse_id)).one()
        account = s.execute(sa.select(AccountUsage.files, AccountUsage.bytes)
                            .where(AccountUsage.rse_id == rse_id, AccountUsage.account == "alice")).one()
    assert tuple(usage) == (3, 300) and tuple(account) == (3, 300)
