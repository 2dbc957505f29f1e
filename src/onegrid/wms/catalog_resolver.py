"""Input-data resolution through the catalogue's replicas (the optimizer runs beside the
server, on the same database). An LFN is `scope:name` or a bare name (any scope). A
replica counts when AVAILABLE on a readable RSE; the RSE's `site` attribute names its
site (else the RSE's own name); TAPE RSEs hold the file on tape only.

Staging goes through the transfer service the way Rucio's users ask for it: a
replication rule per tape-only file onto a disk RSE at the tape's site (else any disk
RSE), activity `Staging`, with a lifetime; the judge turns it into a transfer request that
the conveyor serves from tape. The job stays Staging until the disk copy is AVAILABLE."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import Session

from onegrid.catalog.tables import RSE, Replica, ReplicaState, RSEAttribute, RSEType
from onegrid.clock import Clock
from onegrid.errors import AlreadyExists, Conflict, InvalidInput, NotFound
from onegrid.runtime import Runtime
from onegrid.wms.inputdata import Locations

STAGING_ACTIVITY = "Staging"


class CatalogResolver:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def locate(self, lfns: Sequence[str]) -> Locations | None:
        keys = [(lfn.split(":", 1)[0], lfn.split(":", 1)[1]) if ":" in lfn else (None, lfn) for lfn in lfns]
        names = sorted({n for _, n in keys})
        site_attr = sa.select(RSEAttribute.value).where(RSEAttribute.rse_id == RSE.id, RSEAttribute.key == "site")
        q = (sa.select(Replica.scope, Replica.name, RSE.name, RSE.rse_type, site_attr.scalar_subquery())
             .join(RSE, RSE.id == Replica.rse_id)
             .where(Replica.name.in_(names), Replica.state == ReplicaState.AVAILABLE, RSE.deleted_at.is_(None),
                    RSE.availability_read.is_(True)))
        found: dict[tuple[str, str], list[tuple[str, bool]]] = {}
        with self.runtime.reading() as session:
            for scope, name, rse_name, rse_type, site in session.execute(q):
                found.setdefault((scope, name), []).append((str(site or rse_name), rse_type == RSEType.TAPE))
        out = Locations()
        for lfn, (scope, name) in zip(lfns, keys, strict=True):
            hits = [h for (s, n), hs in found.items() if n == name and (scope is None or s == scope) for h in hs]
            disk = {site for site, tape in hits if not tape}
            tape = {site for site, is_tape in hits if is_tape}
            if disk:
                out.disk[lfn] = disk
            elif tape:
                out.tape[lfn] = tape
                scopes = sorted({s for (s, n) in found if n == name and (scope is None or s == scope)})
                out.dids[lfn] = (scopes[0], name)
            else:
                out.missing.append(lfn)
        return out

    def stage(self, session: Session, clock: Clock, owner: str, lfns: Sequence[str], loc: Locations) -> str:
        """One rule per tape-only file (an existing one of the same owner is reused)."""
        from onegrid.catalog.rules import service as rules

        lifetime = self.runtime.settings.wms.staging_lifetime_seconds
        asked, errors = 0, []
        for lfn in lfns:
            scope, name = loc.dids.get(lfn) or (None, None)
            if scope is None or name is None:
                continue
            targets = [f"site={site}&istape=False" for site in sorted(loc.tape.get(lfn, ()))] + ["istape=False"]
            for expression in targets:
                try:
                    with session.begin_nested():
                        rules.add_rules(session, clock, self.runtime.rng, dids=[{"scope": scope, "name": name}],
                                        account=owner, copies=1, rse_expression=expression, lifetime=lifetime,
                                        activity=STAGING_ACTIVITY, ignore_account_limit=True,
                                        comment="WMS: input data of a job, recalled from tape")
                except AlreadyExists:  # this owner already asked for it
                    pass
                except (InvalidInput, NotFound, Conflict) as exc:  # no disk RSE there: the next choice
                    errors.append(exc.message)
                    continue
                asked += 1
                break
        if asked < len(lfns):
            return f"Waiting for {len(lfns)} files on tape; {len(lfns) - asked} not requested: {'; '.join(errors)}"
        return f"Staging {len(lfns)} files from tape"
