"""Who may read the monitor's endpoints (the `monitor.read_access` setting).

Three kinds of reader, one dependency each, and every route names one of them:
- `Anyone`: the page shell, its static files and its config (no grid data in them).
- `SummaryReader`: aggregates (volumes, counts, CPU, link windows, productions, `/metrics`);
  public unless `read_access = "authenticated"`.
- `DetailReader`: anything that names a job, a rule, a file or an error; public only with
  `read_access = "public"`, else a token is needed. A user's token shows their own jobs;
  root and service accounts see every job.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from onegrid.deps import RuntimeDep
from onegrid.iam.deps import Principal, get_optional_principal, get_principal
from onegrid.iam.tables import AccountType
from onegrid.monitor.settings import ReadAccess


@dataclass(frozen=True)
class Reader:
    """The caller: `principal` is None for an anonymous reader the settings let in."""

    principal: Principal | None

    @property
    def sees_every_job(self) -> bool:
        p = self.principal
        return p is None or p.is_root or p.account_type is AccountType.SERVICE

    @property
    def account(self) -> str | None:
        return self.principal.account if self.principal else None


def _anyone(request: Request, runtime: RuntimeDep) -> Reader:
    """The page shell and its config hold no grid data: anyone may load them. A token, if
    sent, is still checked, so the page can say who is signed in."""
    return Reader(get_optional_principal(request, runtime))


def _summary_reader(request: Request, runtime: RuntimeDep) -> Reader:
    if runtime.settings.monitor.read_access is ReadAccess.AUTHENTICATED:
        return Reader(get_principal(request, runtime))
    return Reader(None)


def _detail_reader(request: Request, runtime: RuntimeDep) -> Reader:
    if runtime.settings.monitor.read_access is ReadAccess.PUBLIC:
        return Reader(None)
    return Reader(get_principal(request, runtime))


def _reading(runtime: RuntimeDep) -> Iterator[Session]:
    """A read-only session: the dashboard never takes SQLite's write lock."""
    with runtime.reading() as session:
        yield session


Anyone = Annotated[Reader, Depends(_anyone)]
SummaryReader = Annotated[Reader, Depends(_summary_reader)]
DetailReader = Annotated[Reader, Depends(_detail_reader)]
ReadSession = Annotated[Session, Depends(_reading)]
