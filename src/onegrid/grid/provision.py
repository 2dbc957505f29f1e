"""Setting up a one-machine grid through the REST API, as an operator would.

Every step is idempotent: it reads what exists and adds only what is missing, so a second
`onegrid up` on the same data directory changes nothing. The RSE conventions here are the
ones the rest of the grid relies on:

- attributes `site`, `country`, `site_type`, `tier`, `raw_centre` (tape RSEs of RAW data
  centres), `raw_share` (their weight for the second RAW copy), `tier0` (KEK's);
- one `https`-style WebDAV protocol per RSE (plain `http` on loopback), prefix the VO's
  base path, priority 1 for every operation including third-party copy;
- distances: 1 within a site, 2 within a country, 3 otherwise (FTS-like ranking).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from onegrid.client import OneGridClient
from onegrid.errors import AlreadyExists, NotFound
from onegrid.grid.layout import GridLayout
from onegrid.grid.sites import Site, SitesFile, StorageElement

VO_GROUPS = ("production", "data", "users")
EXPERIMENT_SCOPES = ("belle", "raw", "mc")
MIN_FREE_FRACTION = 0.05
RAW_SUBSCRIPTION = "belle-raw"
USER_QUOTA_BYTES = 10**12
MEMBER_SCOPES = ("storage.read:/", "storage.create:/", "compute.read", "compute.create", "compute.modify",
                 "compute.cancel")


@dataclass(frozen=True)
class Distance:
    src: str
    dest: str
    distance: int


def rse_attributes(site: Site, se: StorageElement) -> dict[str, object]:
    attrs: dict[str, object] = {
        "site": site.name,
        "country": site.country,
        "site_type": site.type,
        "tier": site.tier,
        "type": se.kind.upper(),
    }
    if se.kind == "tape" and site.raw_share > 0:
        attrs["raw_centre"] = True
        attrs["raw_share"] = site.raw_share
    if site.tier == 0:
        attrs["tier0"] = True
    return attrs


def distances(sites: SitesFile) -> Iterable[Distance]:
    ses = sites.storage_elements
    for a_site, a in ses:
        for b_site, b in ses:
            if a.name == b.name:
                continue
            d = 1 if a_site.name == b_site.name else 2 if a_site.country == b_site.country else 3
            yield Distance(a.name, b.name, d)


def _ignore_existing(call: Callable[..., object], *args: object) -> None:
    with contextlib.suppress(AlreadyExists):
        call(*args)


def provision_catalog(client: OneGridClient, sites: SitesFile, layout: GridLayout) -> None:
    """RSEs with attributes, protocols, limits and distances; the experiment's scopes."""
    cat = client.catalog
    existing = {r["rse"] for r in cat.list_rses()}
    host = layout.host
    for site, se in sites.storage_elements:
        if se.name not in existing:
            cat.add_rse(se.name, rse_type=se.kind.upper(), deterministic=True)
            for key, value in rse_attributes(site, se).items():
                cat.set_rse_attribute(se.name, key, value)
            cat.add_protocol(se.name, "http", host, layout.storage_ports[se.name], sites.vo,
                             domains={"wan": {"read": 1, "write": 1, "delete": 1, "third_party_copy_read": 1,
                                              "third_party_copy_write": 1}})
            cat.set_rse_limit(se.name, "MinFreeSpace", int(se.size_bytes * MIN_FREE_FRACTION))
            cat.set_rse_limit(se.name, "TotalSpace", se.size_bytes)
    if len(existing & {se.name for _, se in sites.storage_elements}) < len(sites.storage_elements):
        for d in distances(sites):
            cat.set_distance(d.src, d.dest, d.distance)
    scopes = set(cat.list_scopes())
    for scope in EXPERIMENT_SCOPES:
        if scope not in scopes:
            _ignore_existing(cat.add_scope, scope, "root")


def provision_raw_subscription(client: OneGridClient, sites: SitesFile) -> None:
    """Belle II's RAW policy: every RAW dataset on the tier 0's tape, and a second copy on
    tape at one RAW data centre, drawn by the centres' shares."""
    from onegrid.catalog.rules.subscriptions import raw_policy

    with contextlib.suppress(NotFound):  # Rucio answers 404 for an account without subscriptions
        if any(s.get("name") == RAW_SUBSCRIPTION for s in client.transport.stream_lines("GET", "/subscriptions/root")):
            return
    tier0_tape = next(se.name for site, se in sites.storage_elements if site.tier == 0 and se.kind == "tape")
    options = {"filter": {"did_type": "DATASET", "expression": "datatype=RAW"},
               "replication_rules": raw_policy(tier0_tape), "comments": "Belle II RAW: tier 0 tape + one RAW centre"}
    client.transport.request("POST", f"/subscriptions/root/{RAW_SUBSCRIPTION}", json={"options": options})


def provision_compute(client: OneGridClient, sites: SitesFile) -> None:
    """One compute queue per queue of the sites file, served by local pilots."""
    have = {q["name"]: q for q in client.wms.queues()}
    for site, q in sites.queues:
        want = {"name": q.name, "site": site.name, "platform": q.platform,
                "container_platforms": q.container_platforms, "tags": q.tags, "cores": q.cores,
                "ram_mb": q.ram_mb, "backend": "local", "max_pilots": 2}
        if any(have.get(q.name, {}).get(k) != v for k, v in want.items()):
            client.wms.put_queue(want)


def provision_people(client: OneGridClient, sites: SitesFile, user: str, password: str) -> None:
    """The VO's groups, what their members may ask for, and a user with a quota."""
    t = client.transport
    have_groups = {g["path"] for g in t.json("GET", "/iam/groups")}
    for path in (sites.vo, *(f"{sites.vo}/{g}" for g in VO_GROUPS)):
        if path not in have_groups:
            t.json("POST", "/iam/groups", json={"path": path})
    if not t.json("GET", "/iam/policies", params={"group": sites.vo}):
        t.json("POST", "/iam/policies", json={"rule": "PERMIT", "group": sites.vo, "scopes": list(MEMBER_SCOPES),
                                              "description": "members read everything and add files"})
        t.json("POST", "/iam/policies", json={"rule": "PERMIT", "group": f"{sites.vo}/production",
                                              "scopes": ["storage.modify:/", "storage.stage:/"],
                                              "description": "production replaces and stages files"})
    if user not in {a["name"] for a in t.json("GET", "/iam/accounts")}:
        t.json("POST", "/iam/accounts", json={"name": user, "type": "USER", "password": password,
                                              "groups": [sites.vo, f"{sites.vo}/users"]})
        _ignore_existing(client.catalog.add_scope, f"user.{user}", user)
        for _site, se in sites.storage_elements:
            if se.kind == "disk":
                client.catalog.set_account_limit(user, se.name, USER_QUOTA_BYTES)
