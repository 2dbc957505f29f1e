"""The FTS3-shaped REST API and the `onegrid transfer` CLI on a live server, with copies
made by a real conveyor between real storage endpoints."""

from __future__ import annotations

import json

import pytest
from tests_cli import cli
from transfer_harness import Grid, adler32_of, run_until_idle

from onegrid.client import OneGridClient
from onegrid.client.transfers import did_file, url_file
from onegrid.errors import Forbidden, InvalidInput, NotFound


@pytest.fixture
def api(grid: Grid, root_token: str):  # type: ignore[no-untyped-def]
    client = OneGridClient(grid.server.url, root_token)  # type: ignore[attr-defined]
    yield client.transfers
    client.close()


def test_url_job_is_copied_and_reported_like_fts(grid: Grid, api) -> None:  # type: ignore[no-untyped-def]
    src = grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    data = b"direct " * 1000
    grid.put_file("KEK-DISK", "belle", "d.root", data, register=False)
    source_url = f"{src.url}/belle{src.path_of('belle', 'd.root').as_posix()[len(src.root.as_posix()):]}"
    dest_url = f"{dst.url}/belle/direct/d.root"
    job_id = api.submit([url_file([source_url], dest_url, checksum=f"ADLER32:{adler32_of(data)}",
                                  filesize=len(data))], priority=4)
    assert api.job(job_id)["job_state"] == "SUBMITTED"
    run_until_idle(grid.conveyor())
    job = api.job(job_id)
    assert job["job_state"] == "FINISHED", job
    assert job["files"][0]["file_state"] == "FINISHED" and job["files"][0]["priority"] == 4
    assert (dst.root / "direct" / "d.root").read_bytes() == data


def test_did_job_registers_the_destination_replica(grid: Grid, api, root_token: str) -> None:  # type: ignore[no-untyped-def]
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    grid.put_file("KEK-DISK", "belle", "e.root", b"e" * 4096)
    job_id = api.submit([did_file("belle:e.root", "DESY-DISK")])
    run_until_idle(grid.conveyor())
    assert api.job(job_id)["job_state"] == "FINISHED"
    assert dst.path_of("belle", "e.root").read_bytes() == b"e" * 4096
    cat = OneGridClient(grid.server.url, root_token).catalog  # type: ignore[attr-defined]
    reps = list(cat.list_replicas([{"scope": "belle", "name": "e.root"}]))
    assert "DESY-DISK" in reps[0]["rses"]
    rows = api.requests(state="DONE", link="KEK-DISK__DESY-DISK")
    assert [r["name"] for r in rows] == ["e.root"]
    links = api.links()
    assert any(link["source"] == "KEK-DISK" and link["destination"] == "DESY-DISK" for link in links)


def test_cancel_and_errors(grid: Grid, api) -> None:  # type: ignore[no-untyped-def]
    grid.add_storage("DESY-DISK", site="DESY")
    job_id = api.submit([url_file(["http://127.0.0.1:9/x"], "http://127.0.0.1:9/y")])
    assert api.cancel(job_id)["job_state"] == "CANCELED"
    with pytest.raises(NotFound):
        api.job("no-such-job")
    with pytest.raises(InvalidInput):
        api.submit([{"sources": ["http://a/x"], "destinations": []}])
    with pytest.raises(InvalidInput):
        api.requests(state="NOPE")


def test_operator_settings_need_root(grid: Grid, api) -> None:  # type: ignore[no-untyped-def]
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    grid.add_storage("DESY-DISK", site="DESY")
    server = grid.server
    server.add_account("alice", password="alice-password")  # type: ignore[attr-defined]
    alice = OneGridClient(server.url, server.token("alice")).transfers  # type: ignore[attr-defined]
    with pytest.raises(Forbidden):
        alice.set_link_limits("KEK-DISK", "DESY-DISK", max_active=5)
    with pytest.raises(Forbidden):
        alice.submit([url_file(["http://127.0.0.1:9/x"], "http://127.0.0.1:9/y")])
    assert alice.links() == []
    api.set_link_limits("KEK-DISK", "DESY-DISK", min_active=1, max_active=5)
    api.set_storage_limits("DESY-DISK", max_writes=3)
    api.set_activity_share("Data Consolidation", 3)
    api.set_distance("KEK-DISK", "DESY-DISK", 7)
    (link,) = api.links()
    assert (link["min_active"], link["max_active"]) == (1, 3)  # the storage's write limit caps the link
    assert api.activities() == {"Data Consolidation": 3.0}


def test_cli_submit_status_list_links(grid: Grid, root_token: str) -> None:
    src = grid.add_storage("KEK-DISK", site="KEK", country="JP")
    dst = grid.add_storage("DESY-DISK", site="DESY")
    grid.put_file("KEK-DISK", "belle", "c.root", b"c" * 300)
    env = {"ONEGRID_SERVER": grid.server.url, "ONEGRID_TOKEN": root_token}  # type: ignore[attr-defined]
    out = cli("transfer", "submit", "belle:c.root", "--rse", "DESY-DISK", "--json", env=env)
    job_id = json.loads(out)[0]["job_id"]
    run_until_idle(grid.conveyor())
    status = json.loads(cli("transfer", "status", job_id, "--json", env=env))
    assert status["job_state"] == "FINISHED"
    listed = json.loads(cli("transfer", "list", "--state", "DONE", "--json", env=env))
    assert [r["name"] for r in listed] == ["c.root"]
    links = json.loads(cli("transfer", "links", "--json", env=env))
    assert [(link["source"], link["destination"]) for link in links] == [("KEK-DISK", "DESY-DISK")]
    assert dst.path_of("belle", "c.root").exists() and src.rse_id
