"""The conveyor against storage we did not write: nginx's WebDAV module (no third-party
copy: push or streamed through the conveyor) and XRootD with its HTTP-TPC plugin."""

from __future__ import annotations

import os
import zlib

import pytest
import sqlalchemy as sa
from foreign_storage import NGINX, XROOTD, nginx_dav, xrootd_https
from transfer_harness import Grid, run_until_idle

from onegrid.catalog.tables import Replica, ReplicaState
from onegrid.transfers.tables import TransferHistory, TransferRequest


def _outcome(grid: Grid) -> tuple[list[str], list[tuple[str | None, str, str | None]]]:
    with grid.runtime.reading() as s:
        states = list(s.scalars(sa.select(TransferRequest.state).order_by(TransferRequest.id)))
        hist = [(h.mode, h.outcome, h.error) for h in s.scalars(sa.select(TransferHistory).order_by(TransferHistory.id))]
    return states, hist


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian: nginx libnginx-mod-http-dav-ext)")
def test_rule_like_request_to_nginx_webdav_completes(grid: Grid, tmp_path) -> None:  # type: ignore[no-untyped-def]
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    with nginx_dav(tmp_path / "n1") as (url, root):
        dst = grid.add_storage("NGINX-DISK", site="DESY", url=url, prefix="/data", root=root, tpc=False)
        data = bytes(range(256)) * 64
        grid.put_file("KEK-DISK", "belle", "n.root", data)
        grid.queue("belle", ["n.root"], "NGINX-DISK")
        run_until_idle(grid.conveyor())
        states, hist = _outcome(grid)
        assert states == ["DONE"], hist
        assert dst.path_of("belle", "n.root").read_bytes() == data
        assert hist[-1][0] == "push"  # nginx does not pull: our endpoint pushes to it


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed (Debian: nginx libnginx-mod-http-dav-ext)")
def test_between_two_nginx_the_copy_is_streamed_through_the_conveyor(grid: Grid, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with nginx_dav(tmp_path / "a") as (url_a, root_a), nginx_dav(tmp_path / "b") as (url_b, root_b):
        grid.add_storage("NGINX-A", site="KEK", url=url_a, prefix="/data", root=root_a, tpc=False)
        dst = grid.add_storage("NGINX-B", site="DESY", url=url_b, prefix="/data", root=root_b, tpc=False)
        data = b"streamed " * 5000
        grid.put_file("NGINX-A", "belle", "s.root", data)
        grid.queue("belle", ["s.root"], "NGINX-B")
        run_until_idle(grid.conveyor())
        states, hist = _outcome(grid)
        assert states == ["DONE"], hist
        assert hist[-1][0] == "streamed"
        assert dst.path_of("belle", "s.root").read_bytes() == data
        with grid.runtime.reading() as s:
            assert s.scalar(sa.select(Replica.state).where(Replica.rse_id == dst.rse_id)) is ReplicaState.AVAILABLE


@pytest.mark.skipif(XROOTD is None, reason="xrootd is not installed (Debian: xrootd-server xrootd-plugins)")
@pytest.mark.skipif(os.geteuid() != 0, reason="xrootd refuses root and runs as user xrootd (-R): needs root to start")
def test_rule_like_request_to_xrootd_with_http_tpc_completes(grid: Grid, tmp_path) -> None:  # type: ignore[no-untyped-def]
    grid.add_storage("KEK-DISK", site="KEK", country="JP")
    with xrootd_https(tmp_path / "x") as (url, root, ca):
        dst = grid.add_storage("XROOTD-DISK", site="DESY", url=url, prefix="/belle", root=root / "belle",
                               scheme="davs")
        data = b"xrootd pulls this " * 3000
        grid.put_file("KEK-DISK", "belle", "x.root", data)
        grid.queue("belle", ["x.root"], "XROOTD-DISK")
        run_until_idle(grid.conveyor(verify_tls=str(ca)))
        states, hist = _outcome(grid)
        assert states == ["DONE"], hist
        assert hist[-1][0] == "pull"
        got = dst.path_of("belle", "x.root").read_bytes()
        assert zlib.adler32(got) == zlib.adler32(data) and got == data
