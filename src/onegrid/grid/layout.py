"""Where everything of a one-machine grid lives: data folders, ports, the root password.

Ports are chosen at the first `up` (the server's as asked, the others free ones) and kept
in `<data-dir>/grid.json`: the catalogue records each storage element's URL, so a second
`up` on the same data directory must serve every element on the port it had.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path

from onegrid.grid.sites import SitesFile


@dataclass
class GridLayout:
    data_dir: Path
    server_port: int
    storage_ports: dict[str, int] = field(default_factory=dict)
    host: str = "127.0.0.1"

    @property
    def server_url(self) -> str:
        return f"http://{self.host}:{self.server_port}"

    def storage_url(self, rse: str) -> str:
        return f"http://{self.host}:{self.storage_ports[rse]}"

    def storage_root(self, rse: str) -> Path:
        return self.data_dir / "storage" / rse

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'onegrid.db'}"

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def state_file(self) -> Path:
        return self.data_dir / "grid.json"

    def save(self) -> None:
        data = asdict(self)
        data["data_dir"] = str(self.data_dir)
        self.state_file.write_text(json.dumps(data, indent=2))

    @classmethod
    def load_or_plan(cls, data_dir: Path, sites: SitesFile, port: int | None) -> GridLayout:
        """The saved layout of `data_dir`, extended for new storage elements; or a new one."""
        data_dir.mkdir(parents=True, exist_ok=True)
        state = data_dir / "grid.json"
        if state.exists():
            saved = json.loads(state.read_text())
            layout = cls(data_dir=data_dir, server_port=port or saved["server_port"],
                         storage_ports=dict(saved.get("storage_ports", {})), host=saved.get("host", "127.0.0.1"))
        else:
            layout = cls(data_dir=data_dir, server_port=port or 8080)
        taken = {layout.server_port, *layout.storage_ports.values()}
        for _site, se in sites.storage_elements:
            if se.name not in layout.storage_ports:
                layout.storage_ports[se.name] = _free_port(layout.host, taken)
                taken.add(layout.storage_ports[se.name])
        layout.save()
        return layout

    def root_password(self) -> str:
        """Generated at the first start, kept (mode 0600) in the data directory."""
        path = self.data_dir / "root-password"
        if not path.exists():
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(secrets.token_urlsafe(18))
        return path.read_text().strip()


def _free_port(host: str, taken: set[int]) -> int:
    """A port the system says is free now (and not already planned for another process)."""
    while True:
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
        if port not in taken:
            return port
