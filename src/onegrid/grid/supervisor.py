"""Starting, watching and stopping the processes of a one-machine grid."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from onegrid.clock import Clock
from onegrid.errors import Unavailable

# Seconds a process gets between SIGTERM and SIGKILL when the grid stops.
STOP_GRACE_SECONDS = 10


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to send SIGTERM when the parent dies, so a grid
    whose `up` was killed (even with SIGKILL) leaves no process behind."""
    if sys.platform.startswith("linux"):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


@dataclass
class ManagedProcess:
    name: str
    argv: list[str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""


@dataclass
class Supervisor:
    """Owns child processes: each logs to `<log_dir>/<name>.log`; `stop_all` ends them all."""

    log_dir: Path
    env: dict[str, str]
    clock: Clock
    processes: dict[str, ManagedProcess] = field(default_factory=dict)

    def onegrid_argv(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "onegrid", *args]

    def start(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> ManagedProcess:
        if name in self.processes and self.processes[name].running:
            return self.processes[name]
        self.log_dir.mkdir(parents=True, exist_ok=True)
        proc = ManagedProcess(name=name, argv=argv, log_path=self.log_dir / f"{name}.log")
        with proc.log_path.open("ab") as log:
            proc.popen = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env, **(extra_env or {})},
                start_new_session=True,  # Ctrl-C reaches us, and we stop the children in order
                preexec_fn=_die_with_parent,
            )
        self.processes[name] = proc
        return proc

    def wait_http(self, name: str, url: str, timeout: float = 60) -> None:
        """Wait until `url` answers; fail with the process's log if it died or never answered."""
        proc = self.processes[name]
        deadline = self.clock.monotonic() + timeout
        while self.clock.monotonic() < deadline:
            if not proc.running:
                raise Unavailable(f"{name} exited at start:\n{proc.log_tail()}")
            try:
                if httpx.get(url, timeout=2).status_code < 500:
                    return
            except httpx.HTTPError:
                pass
            self.clock.sleep(0.1)
        raise Unavailable(f"{name} did not answer at {url} within {timeout:.0f}s:\n{proc.log_tail()}")

    def stop(self, name: str, *, kill: bool = False) -> None:
        proc = self.processes.get(name)
        if proc is None or proc.popen is None:
            return
        if proc.running:
            proc.popen.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.popen.wait(timeout=STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()

    def stop_all(self) -> None:
        # Daemons and pilots first, then storage, the server last: nothing writes to a
        # server that is gone.
        order = sorted(self.processes, key=lambda n: (n == "server", n.startswith("storage-")))
        for name in order:
            proc = self.processes[name]
            if proc.running and proc.popen is not None:
                proc.popen.send_signal(signal.SIGTERM)
        for name in order:
            self.stop(name)

    def dead(self) -> list[ManagedProcess]:
        return [p for p in self.processes.values() if p.popen is not None and not p.running]
