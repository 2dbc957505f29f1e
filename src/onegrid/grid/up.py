"""`onegrid up`: a complete grid on this machine from one sites file.

The server, the daemons, one storage endpoint per storage element (tape ones emulated with
`--tape`), and compute queues served by the site director's `local` pilot backend. The
grid is set up through the REST API, as an operator would: groups, a user, RSEs with their
protocols, attributes and distances, sites and queues. A second `up` on the same data
directory finds everything in place and resumes.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from onegrid.client import OneGridClient
from onegrid.clock import Clock, SystemClock
from onegrid.errors import Unavailable
from onegrid.grid.layout import GridLayout
from onegrid.grid.provision import (
    provision_catalog,
    provision_compute,
    provision_people,
    provision_raw_subscription,
)
from onegrid.grid.sites import SitesFile, StorageElement, load_sites
from onegrid.grid.supervisor import Supervisor
from onegrid.iam.tokens import WLCG_ANY_AUDIENCE

DAEMONS = ("judge", "conveyor", "reaper", "watchdog", "wms", "site-director")
DEMO_USER = "alice"
DEMO_USER_PASSWORD = "alice-password"
LOGIN_SCOPES = ("wlcg.groups", "storage.read:/", "storage.create:/", "storage.modify:/", "storage.stage:/",
                "compute.read", "compute.create", "compute.modify", "compute.cancel")


@dataclass
class Grid:
    layout: GridLayout
    sites: SitesFile
    clock: Clock = field(default_factory=SystemClock)
    daemons: tuple[str, ...] = DAEMONS
    extra_env: dict[str, str] = field(default_factory=dict)
    supervisor: Supervisor = field(init=False)

    def __post_init__(self) -> None:
        self.supervisor = Supervisor(self.layout.log_dir, self.env, self.clock)

    @classmethod
    def plan(cls, data_dir: Path, sites_file: Path | None = None, port: int | None = None,
             clock: Clock | None = None, extra_env: dict[str, str] | None = None) -> Grid:
        sites = load_sites(sites_file)
        return cls(layout=GridLayout.load_or_plan(data_dir, sites, port), sites=sites, clock=clock or SystemClock(),
                   extra_env=dict(extra_env or {}))

    @property
    def env(self) -> dict[str, str]:
        return {
            "ONEGRID_DATA_DIR": str(self.layout.data_dir),
            "ONEGRID_DATABASE_URL": self.layout.database_url,
            "ONEGRID_SERVER_URL": self.layout.server_url,
            "ONEGRID_CONFIG": "",
            "ONEGRID_WMS__DIRECTOR_WORKDIR": str(self.layout.data_dir / "pilots"),
            **self.extra_env,
        }

    @property
    def root_password(self) -> str:
        return self.layout.root_password()

    def init_database(self) -> None:
        subprocess.run(
            [sys.executable, "-m", "onegrid", "db", "init", "--root-password", self.root_password],
            env={**_os_env(), **self.env}, check=True, capture_output=True,
        )

    def start_server(self) -> None:
        sv = self.supervisor
        sv.start("server", sv.onegrid_argv("server", "--host", self.layout.host, "--port",
                                           str(self.layout.server_port)))
        sv.wait_http("server", f"{self.layout.server_url}/health")

    def start_storage(self) -> None:
        for _site, se in self.sites.storage_elements:
            self._start_storage(se)
        for _site, se in self.sites.storage_elements:
            self._wait_storage(se.name)

    def restart_storage(self, rse: str) -> None:
        [se] = [se for _site, se in self.sites.storage_elements if se.name == rse]
        self._start_storage(se)
        self._wait_storage(rse)

    def _start_storage(self, se: StorageElement) -> None:
        sv = self.supervisor
        root = self.layout.storage_root(se.name)
        root.mkdir(parents=True, exist_ok=True)
        argv = sv.onegrid_argv(
            "storage", "--root", str(root), "--host", self.layout.host,
            "--port", str(self.layout.storage_ports[se.name]), "--base-path", self.sites.vo,
            "--issuer", self.layout.server_url, "--name", se.name,
            "--capacity", str(se.size_bytes),
        )
        if se.kind == "tape":
            argv.append("--tape")
        sv.start(f"storage-{se.name}", argv)

    def _wait_storage(self, rse: str) -> None:
        self.supervisor.wait_http(f"storage-{rse}", f"{self.layout.storage_url(rse)}/.well-known/wlcg-srr")

    def start_daemons(self) -> None:
        sv = self.supervisor
        for name in self.daemons:
            sv.start(f"daemon-{name}", sv.onegrid_argv("daemon", name))

    def login(self, account: str, password: str, scopes: tuple[str, ...] = LOGIN_SCOPES) -> OneGridClient:
        """A client with a password-grant token good for the server and every storage
        (audience: the WLCG "any" URI)."""
        r = httpx.post(f"{self.layout.server_url}/token", timeout=30, data={
            "grant_type": "password", "username": account, "password": password,
            "scope": " ".join(scopes), "audience": WLCG_ANY_AUDIENCE})
        if r.status_code != 200:
            raise Unavailable(f"login of {account} to {self.layout.server_url} failed: {r.text}")
        return OneGridClient(self.layout.server_url, r.json()["access_token"])

    def root_client(self) -> OneGridClient:
        return self.login("root", self.root_password)

    def user_client(self) -> OneGridClient:
        return self.login(DEMO_USER, DEMO_USER_PASSWORD)

    def provision(self) -> None:
        with self.root_client() as client:
            provision_catalog(client, self.sites, self.layout)
            provision_compute(client, self.sites)
            provision_raw_subscription(client, self.sites)
            provision_people(client, self.sites, DEMO_USER, DEMO_USER_PASSWORD)

    def start(self, on_step: Callable[[str], None] = lambda _: None) -> None:
        """Everything, in the order each part needs the one before."""
        on_step("database")
        self.init_database()
        on_step("server")
        self.start_server()
        on_step("catalogue, compute queues and accounts")
        self.provision()
        on_step("storage endpoints")
        self.start_storage()
        on_step("daemons")
        self.start_daemons()

    def stop(self) -> None:
        self.supervisor.stop_all()


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)
