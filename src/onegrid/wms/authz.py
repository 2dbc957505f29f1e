"""Who may do what in the WMS, one dependency per kind of caller (every route names one).

- submitting jobs and productions: `compute.create`
- reading jobs: `compute.read` (users see their own jobs; root sees all)
- killing and deleting: `compute.cancel`; rescheduling: `compute.modify`
- pilots (match, heartbeat, status, sandboxes they upload): a SERVICE account holding
  `compute.modify` (the pilot token), or root
- the site mask and compute queues: root
Root passes every check.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from onegrid.errors import Forbidden
from onegrid.iam.deps import CurrentPrincipal, Principal
from onegrid.iam.tables import AccountType


# The checks are pure: `async def` keeps FastAPI from spending a thread hop on each.
def _needs(action: str) -> object:
    async def dep(principal: CurrentPrincipal) -> Principal:
        if not principal.is_root:
            principal.require_scope(action)
        return principal

    return dep


async def _pilot(principal: CurrentPrincipal) -> Principal:
    if principal.is_root:
        return principal
    if principal.account_type is not AccountType.SERVICE:
        raise Forbidden("only a pilot (a SERVICE account with compute.modify) may do this")
    principal.require_scope("compute.modify")
    return principal


async def _admin(principal: CurrentPrincipal) -> Principal:
    principal.require_root("change the site mask or compute queues")
    return principal


Submitter = Annotated[Principal, Depends(_needs("compute.create"))]
Reader = Annotated[Principal, Depends(_needs("compute.read"))]
Canceller = Annotated[Principal, Depends(_needs("compute.cancel"))]
Modifier = Annotated[Principal, Depends(_needs("compute.modify"))]
PilotCaller = Annotated[Principal, Depends(_pilot)]
Admin = Annotated[Principal, Depends(_admin)]


def owner_group_of(principal: Principal) -> str:
    return principal.groups[0] if principal.groups else f"/user/{principal.account}"


def sees_all(principal: Principal) -> bool:
    return principal.is_root or principal.account_type is AccountType.SERVICE
