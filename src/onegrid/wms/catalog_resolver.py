"""Input-data resolution through the catalogue's replicas (the optimizer runs beside the
server, on the same database). An LFN is `scope:name` or a bare name (any scope). A
replica counts when AVAILABLE on a readable RSE; the RSE's `site` attribute names its
site (else the RSE's own name); TAPE RSEs hold the file on tape only."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from onegrid.catalog.tables import RSE, Replica, ReplicaState, RSEAttribute, RSEType
from onegrid.runtime import Runtime
from onegrid.wms.inputdata import Locations


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
            else:
                out.missing.append(lfn)
        return out
