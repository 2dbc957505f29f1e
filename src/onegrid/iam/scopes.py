"""WLCG capability scopes and their path semantics (common JWT profile §"Scope-based").

`storage.read:/foo/bar` covers `/foo/bar` and `/foo/bar/x`, not `/foo/bargain`;
`storage.modify` implies `storage.create`; every storage scope allows stat.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from onegrid.errors import InvalidInput

STORAGE_ACTIONS = ("storage.read", "storage.create", "storage.modify", "storage.stage")
COMPUTE_ACTIONS = ("compute.read", "compute.modify", "compute.create", "compute.cancel")
# What holding the key grants in addition to itself.
IMPLIES: dict[str, tuple[str, ...]] = {"storage.modify": ("storage.create",)}


@dataclass(frozen=True, order=True)
class Scope:
    action: str
    path: str | None = None  # None for scopes without a path (compute.*, openid, ...)

    def __str__(self) -> str:
        return self.action if self.path is None else f"{self.action}:{self.path}"

    @property
    def is_storage(self) -> bool:
        return self.action in STORAGE_ACTIONS

    def covers(self, other: Scope) -> bool:
        """True if holding `self` grants `other`."""
        if other.action != self.action and other.action not in IMPLIES.get(self.action, ()):
            return False
        if self.path is None or other.path is None:
            return self.path is None and other.path is None
        return path_covers(self.path, other.path)


def normalize_path(path: str) -> str:
    if not path.startswith("/"):
        raise InvalidInput(f"scope path {path!r} must be absolute")
    # Any `..` is refused before normalising, as scitokens does: `/a/../../etc` would
    # otherwise quietly become `/etc`.
    if ".." in path.split("/"):
        raise InvalidInput(f"scope path {path!r} contains '..'")
    norm = posixpath.normpath(path)
    if norm.startswith("//"):
        norm = "/" + norm.lstrip("/")
    return norm


def path_covers(granted: str, wanted: str) -> bool:
    granted, wanted = normalize_path(granted), normalize_path(wanted)
    return granted == "/" or wanted == granted or wanted.startswith(granted + "/")


def parse_scope(text: str) -> Scope:
    action, sep, path = text.partition(":")
    if not action:
        raise InvalidInput(f"empty scope in {text!r}")
    if action in STORAGE_ACTIONS:
        if not sep or not path:
            raise InvalidInput(f"scope {text!r} needs a path, e.g. {action}:/")
        return Scope(action, normalize_path(path))
    if sep:
        # Unknown scopes with a colon (e.g. `wlcg.groups:/belle`) keep their argument verbatim.
        return Scope(action, path)
    return Scope(action)


def parse_scopes(text: str | list[str] | None) -> list[Scope]:
    items = text.split() if isinstance(text, str) else list(text or [])
    return [parse_scope(s) for s in items if s]


def format_scopes(scopes: list[Scope]) -> str:
    return " ".join(str(s) for s in scopes)


def allows(scopes: list[Scope], action: str, path: str | None = None) -> bool:
    """True if the scopes grant `action` on `path` (stat: any storage scope on the path)."""
    if action == "storage.stat":
        return any(s.is_storage and s.path is not None and path is not None and path_covers(s.path, path)
                   for s in scopes)
    wanted = Scope(action, normalize_path(path) if path is not None else None)
    return any(s.covers(wanted) for s in scopes)


def narrow(held: list[Scope], requested: list[Scope]) -> list[Scope]:
    """The part of `requested` that `held` grants: never wider than what is held."""
    return [r for r in requested if any(h.covers(r) for h in held)]
