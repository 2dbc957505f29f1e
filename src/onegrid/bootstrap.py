"""Initialising a database: migrations, signing key, the root account."""

from __future__ import annotations

from onegrid.config import Settings
from onegrid.db.migrate import upgrade
from onegrid.iam import service as iam
from onegrid.iam.tables import Account, AccountType
from onegrid.runtime import Runtime


def init_database(settings: Settings, *, root_account: str = "root", root_password: str) -> bool:
    """Returns True if the root account was created, False if it already existed."""
    upgrade(settings.effective_database_url)
    runtime = Runtime.create(settings)
    try:
        runtime.load_keys()
        with runtime.transaction() as session:
            if session.get(Account, root_account) is not None:
                return False
            iam.create_account(session, runtime.clock, root_account, AccountType.ROOT)
            iam.set_password(session, runtime.clock, root_account, root_account, root_password)
            return True
    finally:
        runtime.close()
