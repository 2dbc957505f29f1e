"""Bringing tape-only sources to disk through the WLCG Tape REST API (SPECS §2).

`stage` → poll → copy → `release`: the conveyor groups the files that need a recall per
tape endpoint (one `POST stage` for many files, each request under a token narrowed to
exactly those paths with `storage.stage`), keeps the request handle on each transfer
request (state STAGING), polls it, and once a file is on disk queues the transfer again
with that source pinned. After the copy the disk copy is released.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from onegrid.errors import OneGridError
from onegrid.storage.client import StageState, StorageClient

# Files per stage request: keeps the narrowed token (one scope per file) a sane size.
MAX_FILES_PER_STAGE = 50

Mint = Callable[[list[str], str], str]
ClientFor = Callable[[str | None], StorageClient]


@dataclass(frozen=True)
class StageItem:
    request_id: int
    url: str
    token_path: str
    audience: str


@dataclass(frozen=True)
class StageSubmitted:
    request_id: int
    handle: str | None
    error: str | None = None


def submit(items: Sequence[StageItem], *, mint: Mint, client_for: ClientFor, disk_lifetime: int) -> list[StageSubmitted]:
    """One stage request per tape endpoint (and per `MAX_FILES_PER_STAGE` files)."""
    groups: dict[str, list[StageItem]] = {}
    for item in items:
        groups.setdefault(item.audience, []).append(item)
    out: list[StageSubmitted] = []
    for audience, group in groups.items():
        for i in range(0, len(group), MAX_FILES_PER_STAGE):
            part = group[i:i + MAX_FILES_PER_STAGE]
            token = mint([f"storage.stage:{it.token_path}" for it in part], audience)
            try:
                handle = client_for(token).stage([it.url for it in part], disk_lifetime=disk_lifetime or None)
                out.extend(StageSubmitted(it.request_id, handle) for it in part)
            except OneGridError as exc:
                out.extend(StageSubmitted(it.request_id, None, f"stage request refused: {exc.message}") for it in part)
    return out


@dataclass(frozen=True)
class StagePoll:
    request_id: int
    state: StageState | None  # None: the poll itself failed (try again later)
    error: str | None = None


def poll(handle: str, items: Sequence[StageItem], *, mint: Mint, client_for: ClientFor) -> list[StagePoll]:
    """The state of each item's file in one stage request."""
    if not items:
        return []
    token = mint([f"storage.stage:{it.token_path}" for it in items], items[0].audience)
    try:
        status = client_for(token).stage_status(handle)
    except OneGridError as exc:
        return [StagePoll(it.request_id, None, exc.message) for it in items]
    by_url = {f.url: f for f in status.files}
    by_path = {f.path: f for f in status.files}
    out = []
    for it in items:
        f = by_url.get(it.url)
        if f is None:
            f = next((v for p, v in by_path.items() if it.url.endswith(p)), None)
        if f is None:
            out.append(StagePoll(it.request_id, StageState.FAILED, f"{it.url} is not in stage request {handle}"))
        elif f.on_disk and f.state is not StageState.FAILED:
            out.append(StagePoll(it.request_id, StageState.COMPLETED))
        else:
            out.append(StagePoll(it.request_id, f.state, f.error))
    return out


def release(handle: str, items: Sequence[StageItem], *, mint: Mint, client_for: ClientFor) -> None:
    """Best effort: a release that fails only leaves a disk copy until its lifetime ends."""
    if not items:
        return
    token = mint([f"storage.stage:{it.token_path}" for it in items], items[0].audience)
    with contextlib.suppress(OneGridError):
        client_for(token).release(handle, [it.url for it in items])
