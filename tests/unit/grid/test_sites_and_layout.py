"""The sites file, the grid's layout on disk, and the provisioning conventions (pure parts)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from onegrid.errors import InvalidInput
from onegrid.grid.layout import GridLayout
from onegrid.grid.provision import distances, rse_attributes
from onegrid.grid.sites import load_sites


def test_the_default_sites_follow_the_seed() -> None:
    sites = load_sites()
    by_name = {s.name: s for s in sites.site}
    assert by_name["KEK"].tier == 0 and {se.kind for se in by_name["KEK"].storage} == {"disk", "tape"}
    raw_centres = {s.name for s in sites.site if s.raw_share > 0}
    assert raw_centres == {"BNL", "UVic", "KIT", "DESY", "IN2P3-CC", "CNAF"}
    assert all(any(se.kind == "tape" for se in by_name[n].storage) for n in raw_centres)
    multicore = {s.name for s, q in sites.queues if "MultiCore" in q.tags}
    assert multicore == raw_centres  # the seed's table of multicore queues
    assert {q.platform for _, q in sites.queues} >= {"EL7", "EL9", "Alma9"}
    disk_only = [s for s in sites.site if all(se.kind == "disk" for se in s.storage)]
    assert {s.country for s in disk_only} >= {"Italy", "Czech Republic", "Slovenia"}


def test_a_bad_sites_file_says_where(tmp_path: Path) -> None:
    bad = tmp_path / "sites.toml"
    bad.write_text('[[site]]\nname = "X"\ncountry = "Y"\nstorage = [{ name = "lower-case" }]\n')
    with pytest.raises(InvalidInput, match=r"site\.0\.storage\.0\.name"):
        load_sites(bad)
    bad.write_text("[[site]\n")
    with pytest.raises(InvalidInput, match="not valid TOML"):
        load_sites(bad)
    with pytest.raises(InvalidInput, match="does not exist"):
        load_sites(tmp_path / "missing.toml")
    bad.write_text('[[site]]\nname = "A"\ncountry = "Y"\n[[site]]\nname = "A"\ncountry = "Z"\n')
    with pytest.raises(InvalidInput, match="appears twice"):
        load_sites(bad)


def test_ports_and_the_root_password_survive_a_restart(tmp_path: Path) -> None:
    sites = load_sites()
    first = GridLayout.load_or_plan(tmp_path, sites, 18080)
    ports = [first.server_port, *first.storage_ports.values()]
    assert len(set(ports)) == len(ports) == 1 + len(sites.storage_elements)
    password = first.root_password()
    assert stat.S_IMODE((tmp_path / "root-password").stat().st_mode) == 0o600
    again = GridLayout.load_or_plan(tmp_path, sites, None)
    assert again == first and again.root_password() == password
    assert json.loads((tmp_path / "grid.json").read_text())["server_port"] == 18080


def test_rse_attributes_mark_raw_centres_and_the_tier0() -> None:
    sites = load_sites()
    attrs = {se.name: rse_attributes(site, se) for site, se in sites.storage_elements}
    assert attrs["KIT-TAPE"]["raw_centre"] is True and attrs["KIT-TAPE"]["raw_share"] == 20
    assert "raw_centre" not in attrs["KIT-DISK"] and "raw_centre" not in attrs["KEK-TAPE"]
    assert attrs["KEK-TAPE"]["tier0"] is True and attrs["KEK-DISK"]["site"] == "KEK"
    assert attrs["NAPOLI-DISK"] == {"site": "Napoli", "country": "Italy", "site_type": "DISK_SITE", "tier": 2,
                                    "type": "DISK"}


def test_distances_rank_site_then_country_then_world() -> None:
    d = {(x.src, x.dest): x.distance for x in distances(load_sites())}
    assert d[("KIT-DISK", "KIT-TAPE")] == 1
    assert d[("KIT-DISK", "DESY-TAPE")] == 2
    assert d[("KEK-DISK", "CNAF-TAPE")] == 3
    assert all(d[(a, b)] == d[(b, a)] for a, b in d)
