"""The monitor's JSON endpoints and /metrics over real HTTP, on a grid seeded through the
real API: the aggregates the dashboard draws are the ones the grid's state implies."""

from __future__ import annotations

import re

import httpx
import pytest
from monitor_seed import EXPECTED, GB, seed_grid
from prometheus_client.parser import text_string_to_metric_families

from gridtest import LiveServer, free_port, make_settings, serve_in_thread
from onegrid.clock import SystemClock
from onegrid.iam.tables import AccountType
from onegrid.monitor.exposition import Family, render
from onegrid.runtime import Runtime


@pytest.fixture
def seeded(live_server: LiveServer) -> tuple[LiveServer, dict[str, str]]:
    return live_server, seed_grid(live_server)


def get(live: LiveServer, path: str, token: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(f"{live.url}{path}", headers=headers, timeout=30)


def test_storage_volume_per_rse_country_and_site_type(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    body = get(live, "/monitor/api/storage").json()
    assert {x["label"]: x["bytes"] for x in body["per_country"]} == EXPECTED["per_country"]
    assert {x["label"]: x["bytes"] for x in body["per_site_type"]} == EXPECTED["per_site_type"]
    assert body["files"] == EXPECTED["files"] and body["bytes"] == EXPECTED["bytes"]
    kek = next(r for r in body["rses"] if r["rse"] == "KEK-DISK")
    assert kek == {"rse": "KEK-DISK", "rse_type": "DISK", "files": 3, "used_bytes": 10 * GB,
                   "total_bytes": 14 * 10**12, "country": "Japan", "site_type": "TIER0"}


def test_overview_lists_sites_with_mask_storage_and_running_jobs(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    body = get(live, "/monitor/api/overview").json()
    sites = {s["site"]: s for s in body["sites"]}
    assert set(sites) == {"KEK", "KIT", "DESY", "Napoli"}
    assert sites["Napoli"]["status"] == "Storage only" and sites["Napoli"]["queues"] == 0  # no compute queue
    assert sites["Napoli"]["used_bytes"] == 5 * GB and sites["Napoli"]["country"] == "Italy"
    assert sites["Napoli"]["total_bytes"] == 10**12  # its TotalSpace limit: no storage report
    assert sites["DESY"]["status"] == "Banned" and sites["DESY"]["reason"] == "SRM endpoint down"
    assert sites["KEK"]["status"] == "Active"
    assert {s: sites[s]["running_jobs"] for s in sites} == {"KEK": 1, "KIT": 1, "DESY": 0, "Napoli": 0}
    assert sites["KEK"]["rses"] == ["KEK-DISK", "KEK-TAPE"]
    assert sites["KEK"]["used_bytes"] == 18 * GB and sites["KEK"]["total_bytes"] == 18 * 10**12
    assert sites["KIT"]["cores"] == 8 and sites["KIT"]["country"] == "Germany"
    assert body["jobs_by_state"] == EXPECTED["jobs_by_state"]


def test_cpu_per_activity_and_site_and_jobs_by_state(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    cpu = get(live, "/monitor/api/cpu").json()
    assert {x["label"]: x["cpu_seconds"] for x in cpu["per_activity"]} == EXPECTED["cpu_per_activity"]
    assert {x["label"]: x["cpu_seconds"] for x in cpu["per_site"]} == EXPECTED["cpu_per_site"]
    series = get(live, "/monitor/api/cpu/series?hours=2&bucket_minutes=10").json()
    assert series["bucket_seconds"] == 600 and len(series["buckets"]) in (12, 13)
    assert {s["activity"]: sum(s["cpu_seconds"]) for s in series["series"]} == EXPECTED["cpu_per_activity"]
    # All finished during the seeding: in the last bar, or the two last if it straddled a bar's edge.
    assert all(not any(s["cpu_seconds"][:-2]) and s["cpu_seconds"][-1] + s["cpu_seconds"][-2]
               for s in series["series"])
    states = get(live, "/monitor/api/jobs/states").json()
    assert states["jobs_by_state"] == EXPECTED["jobs_by_state"]
    by_site = {(r["site"], r["status"]): r["jobs"] for r in states["by_site"]}
    assert by_site == {("KEK", "Done"): 1, ("KEK", "Running"): 1, ("KIT", "Done"): 3, ("KIT", "Running"): 1}


def test_productions_show_their_progress(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    [prod] = get(live, "/monitor/api/productions").json()
    assert prod["name"] == "MCTest_charged_BGx0" and prod["jobs_total"] == 5
    assert prod["jobs"] == {"Waiting": 1, "Running": 1, "Done": 3}
    assert prod["jobs_done"] == 3 and prod["progress"] == pytest.approx(0.6)


def test_transfer_volume_per_activity_over_time(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    body = get(live, "/monitor/api/transfers/volume?hours=6&bucket_minutes=60").json()
    assert body["bucket_seconds"] == 3600 and len(body["buckets"]) in (6, 7)
    totals = {s["activity"]: sum(s["bytes"]) for s in body["series"]}
    assert totals == EXPECTED["transfer_bytes"]  # the failed attempt moves no volume
    t0 = next(s for s in body["series"] if s["activity"] == "T0 Export")["bytes"]
    assert sorted(b for b in t0 if b) == [2 * GB, 4 * GB]  # two different hours


def test_links_show_actives_against_the_optimizer_window(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    [link] = get(live, "/monitor/api/transfers/links").json()
    assert (link["source"], link["destination"], link["active"], link["window"]) == ("KEK-DISK", "KIT-DISK", 2, 4)
    assert link["queued_to_destination"] == 1 and link["decision"].startswith("+1")
    states = {(r["state"], r["activity"]): r["requests"] for r in get(live, "/monitor/api/transfers/states").json()}
    assert states == {("SUBMITTED", "T0 Export"): 2, ("QUEUED", "T0 Export"): 1}


def test_rules_by_state_and_stuck_rules_with_reason(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, tokens = seeded
    assert get(live, "/monitor/api/rules").json()["rules_by_state"] == EXPECTED["rules_by_state"]
    stuck = get(live, "/monitor/api/rules/stuck", tokens["root"]).json()
    assert [(r["state"], r["reason"]) for r in stuck] == [("STUCK", "no space left on KIT-DISK")]
    failures = get(live, "/monitor/api/transfers/failures", tokens["root"]).json()
    assert [f["error"] for f in failures] == ["checksum mismatch: adler32 00000001 != 0badf00d"]
    assert failures[0]["source"] == "KEK-DISK" and failures[0]["destination"] == "DESY-DISK"


def test_job_search_and_logging_history(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, tokens = seeded
    root = tokens["root"]
    found = get(live, "/monitor/api/jobs?owner=alice&status=Waiting", root).json()["jobs"]
    assert len(found) == 4 and {j["owner"] for j in found} == {"alice"}
    assert [j["job_id"] for j in found] == sorted((j["job_id"] for j in found), reverse=True)
    at_kit = get(live, "/monitor/api/jobs?site=KIT", root).json()["jobs"]
    assert len(at_kit) == 4 and {j["owner_group"] for j in at_kit} == {"/belle/production/charged"}
    by_group = get(live, "/monitor/api/jobs?group=/belle", root).json()["jobs"]
    assert len(by_group) == 6
    done = get(live, "/monitor/api/jobs?site=KEK&status=Done", root).json()["jobs"][0]
    history = get(live, f"/monitor/api/jobs/{done['job_id']}/history", root).json()["history"]
    assert [h["status"] for h in history][-3:] == ["Matched", "Running", "Done"]
    assert history[0]["status"] == "Received"
    assert get(live, "/monitor/api/jobs?status=Nonsense", root).status_code == 400


def test_details_need_a_token_and_users_see_only_their_jobs(seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, tokens = seeded
    for path in ("/monitor/api/jobs", "/monitor/api/rules/stuck", "/monitor/api/transfers/failures",
                 "/monitor/api/jobs/1/history"):
        assert get(live, path).status_code == 401, path
    for path in ("/", "/monitor/api/overview", "/monitor/api/storage", "/metrics"):
        assert get(live, path).status_code == 200, path
    mine = get(live, "/monitor/api/jobs?owner=root", tokens["alice"]).json()
    assert mine["owner"] == "alice" and len(mine["jobs"]) == 6
    prod_job = get(live, "/monitor/api/jobs?site=KIT", tokens["root"]).json()["jobs"][0]["job_id"]
    assert get(live, f"/monitor/api/jobs/{prod_job}/history", tokens["alice"]).status_code == 403


def test_read_access_settings_open_or_close_everything(db_url: str, tmp_path: object) -> None:
    for access, anonymous_summary, anonymous_detail in (("public", 200, 200), ("authenticated", 401, 401)):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        settings = make_settings(db_url, tmp_path / access, url, monitor={"read_access": access})  # type: ignore[operator]
        rt = Runtime.create(settings, clock=SystemClock())
        stop = serve_in_thread(rt, port)
        try:
            live = LiveServer(url=url, runtime=rt)
            if access == "public":
                live.add_account("root", type=AccountType.ROOT)
            assert httpx.get(f"{url}/monitor/api/overview").status_code == anonymous_summary
            assert httpx.get(f"{url}/metrics").status_code == anonymous_summary
            assert httpx.get(f"{url}/monitor/api/jobs").status_code == anonymous_detail
            assert httpx.get(f"{url}/").status_code == 200  # the page shell holds no data
            assert httpx.get(f"{url}/monitor/api/config").json()["read_access"] == access
            token = live.token("root")
            assert get(live, "/monitor/api/overview", token).status_code == 200
        finally:
            stop()
            rt.close()


def test_static_files_are_served_and_nothing_else(live_server: LiveServer) -> None:
    page = get(live_server, "/")
    assert page.headers["content-type"].startswith("text/html") and "chart.umd.min.js" in page.text
    js = get(live_server, "/monitor/static/chart.umd.min.js")
    assert js.status_code == 200 and "Chart.js v4" in js.text[:200]
    assert get(live_server, "/monitor/static/app.js").headers["content-type"].startswith("text/javascript")
    assert get(live_server, "/monitor/static/..%2F..%2Fapi.py").status_code == 404
    assert get(live_server, "/monitor/static/settings.py").status_code == 404


def test_metrics_parse_as_prometheus_text_with_the_dashboard_figures(
        seeded: tuple[LiveServer, dict[str, str]]) -> None:
    live, _ = seeded
    r = get(live, "/metrics")
    assert r.headers["content-type"].startswith("text/plain; version=0.0.4")
    families = {f.name: f for f in text_string_to_metric_families(r.text)}
    # Every family announces its HELP and TYPE before its samples.
    for fam in families.values():
        assert fam.documentation and fam.type in ("gauge", "counter"), fam.name

    def samples(name: str) -> dict[tuple[tuple[str, str], ...], float]:
        fam = families[name]
        return {tuple(sorted(s.labels.items())): s.value for s in fam.samples}

    used = {dict(k)["rse"]: v for k, v in samples("onegrid_rse_used_bytes").items()}
    assert used["KEK-DISK"] == 10 * GB and sum(used.values()) == EXPECTED["bytes"]
    assert sum(samples("onegrid_rse_files").values()) == EXPECTED["files"]
    assert {dict(k)["status"]: v for k, v in samples("onegrid_jobs").items()} == EXPECTED["jobs_by_state"]
    site_jobs = {(dict(k)["site"], dict(k)["status"]): v for k, v in samples("onegrid_site_jobs").items()}
    assert site_jobs == {("KEK", "Running"): 1, ("KIT", "Running"): 1, ("(none)", "Waiting"): 5}
    finished = {(dict(k)["activity"], dict(k)["site"], dict(k)["status"]): v
                for k, v in samples("onegrid_jobs_finished").items()}
    assert finished == {("user", "KEK", "Done"): 1, ("production", "KIT", "Done"): 3}
    banned = {dict(k)["site"]: v for k, v in samples("onegrid_site_banned").items()}
    assert banned == {"DESY": 1, "KEK": 0, "KIT": 0}
    assert families["onegrid_cpu_seconds"].type == "counter"  # the parser drops the _total suffix
    cpu = {dict(k)["activity"]: v for k, v in samples("onegrid_cpu_seconds").items()}
    assert cpu == EXPECTED["cpu_per_activity"]
    assert {dict(k)["state"]: v for k, v in samples("onegrid_rules").items()} == EXPECTED["rules_by_state"]
    moved = {dict(k)["activity"]: v for k, v in samples("onegrid_transfer_bytes").items() if dict(k)["outcome"] == "DONE"}
    assert moved == EXPECTED["transfer_bytes"]
    assert samples("onegrid_link_window") == {(("destination", "KIT-DISK"), ("source", "KEK-DISK")): 4}


def test_exposition_escapes_label_values_and_help() -> None:
    fam = Family("x_things", "gauge", 'lines\nand \\ slashes').add(1.5, name='a "quoted"\nvalue\\')
    text = render([fam, Family("x_done_total", "counter", "c").add(3)])
    assert text.splitlines() == ['# HELP x_things lines\\nand \\\\ slashes', "# TYPE x_things gauge",
                                 'x_things{name="a \\"quoted\\"\\nvalue\\\\"} 1.5', "# HELP x_done_total c",
                                 "# TYPE x_done_total counter", "x_done_total 3"]
    [parsed, _] = text_string_to_metric_families(text)
    assert parsed.samples[0].labels == {"name": 'a "quoted"\nvalue\\'}
    assert re.fullmatch(r"(# (HELP|TYPE) .+\n|[a-z_]+(\{.*\})? [0-9.e+-]+\n)+", text)
    with pytest.raises(ValueError):
        Family("x_count", "counter", "a counter must end in _total")


@pytest.mark.parametrize("library", [(3, 45, 0), (3, 31, 1)], ids=["unixepoch", "julianday"])
def test_time_buckets_in_sql_match_python_on_sqlite(library: tuple[int, int, int],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    import sqlite3
    from datetime import UTC, datetime

    import sqlalchemy as sa

    from onegrid.db.base import UtcDateTime
    from onegrid.monitor.sources import epoch_seconds

    if library >= (3, 38) and sqlite3.sqlite_version_info < (3, 38):
        pytest.skip("this SQLite library has no unixepoch()")
    monkeypatch.setattr(sqlite3, "sqlite_version_info", library)
    engine = sa.create_engine("sqlite://")
    table = sa.Table("t", sa.MetaData(), sa.Column("at", UtcDateTime))
    table.create(engine)
    stamps = [datetime(2026, 11, 26, 0, 0, 0, tzinfo=UTC), datetime(2026, 11, 25, 23, 59, 59, 999000, tzinfo=UTC),
              datetime(2026, 11, 26, 13, 0, 0, 1, tzinfo=UTC), datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC)]
    with engine.begin() as c:
        c.execute(table.insert(), [{"at": s} for s in stamps])
        got = c.execute(sa.select(epoch_seconds(table.c.at, engine.dialect) // 3600)).scalars().all()
    assert got == [int(s.timestamp()) // 3600 for s in stamps]


def test_a_subsystem_whose_tables_are_absent_gives_empty_figures(
        seeded: tuple[LiveServer, dict[str, str]], monkeypatch: pytest.MonkeyPatch) -> None:
    """As before the transfer and rules tables landed: looked up as None at import, never queried."""
    from onegrid.monitor import rules, transfers

    for name in ("TRANSFER_HISTORY", "TRANSFER_REQUESTS", "TRANSFER_LINKS"):
        monkeypatch.setattr(transfers, name, None)
    monkeypatch.setattr(rules, "RULES", None)
    live, tokens = seeded
    assert get(live, "/monitor/api/transfers/volume").json()["series"] == []
    assert get(live, "/monitor/api/transfers/links").json() == []
    assert get(live, "/monitor/api/transfers/states").json() == []
    assert get(live, "/monitor/api/transfers/failures", tokens["root"]).json() == []
    assert get(live, "/monitor/api/rules").json() == {"rules_by_state": {}}
    assert get(live, "/monitor/api/rules/stuck", tokens["root"]).json() == []
    families = {f.name: f for f in text_string_to_metric_families(get(live, "/metrics").text)}
    assert families["onegrid_rules"].samples == [] and families["onegrid_transfer_requests"].samples == []
    assert sum(s.value for s in families["onegrid_rse_files"].samples) == EXPECTED["files"]  # the rest is there
