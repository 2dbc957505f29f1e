"""Where a file lives on an RSE: the deterministic path conventions and PFN building.

Pure functions: the storage client, the transfer tool and the catalogue call them alike.
- `hash`: Rucio's default, `/<scope>/<md5[0:2]>/<md5[2:4]>/<name>` with md5 of `scope:name`
  (user and group scopes `user.jdoe` become `user/jdoe`, as Rucio does).
- `identity`: the LFN is the path (Belle II's `/belle/...` names); a name without a
  leading slash is put under its scope.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from onegrid.errors import InvalidInput

HASH = "hash"
IDENTITY = "identity"
ALGORITHMS = (HASH, IDENTITY)
DEFAULT_ALGORITHM = HASH
# RSE attribute that chooses the convention, named as in Rucio.
ALGORITHM_ATTRIBUTE = "lfn2pfn_algorithm"


def _scope_dir(scope: str) -> str:
    # As Rucio: user and group scopes become directories at every dot.
    if scope.startswith(("user", "group")):
        return scope.replace(".", "/")
    return scope


def hash_path(scope: str, name: str) -> str:
    digest = hashlib.md5(f"{scope}:{name}".encode(), usedforsecurity=False).hexdigest()
    # A name that is itself a path (`/belle/...`) is not given a double slash.
    return f"/{_scope_dir(scope)}/{digest[0:2]}/{digest[2:4]}/{name.lstrip('/')}"


def identity_path(scope: str, name: str) -> str:
    if name.startswith("/"):
        return name
    return f"/{_scope_dir(scope)}/{name}"


def deterministic_path(scope: str, name: str, algorithm: str = DEFAULT_ALGORITHM) -> str:
    """The path of `scope:name` below an RSE's prefix under the given convention."""
    if algorithm in ("", "default", HASH):
        return hash_path(scope, name)
    if algorithm == IDENTITY:
        return identity_path(scope, name)
    raise InvalidInput(f"unknown lfn2pfn algorithm {algorithm!r} (known: {', '.join(ALGORITHMS)})")


def join_path(prefix: str, path: str) -> str:
    """`prefix` + `path` with exactly one slash between them and a leading slash."""
    prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
    return f"{prefix}/{path.lstrip('/')}"


_URL_SAFE = re.compile(r"^[A-Za-z0-9/_.\-:@+=~,]*$")


def build_pfn(scheme: str, hostname: str, port: int | None, prefix: str, path: str) -> str:
    """`scheme://hostname:port/prefix/path`; `file` has no host, port 0 or None omits it."""
    full = join_path(prefix, path)
    if not _URL_SAFE.match(full):
        full = quote(full, safe="/:@+=~,")
    if scheme == "file":
        return f"file://{full}"
    netloc = f"{hostname}:{port}" if port else hostname
    if scheme == "root":
        # XRootD URLs carry the absolute path after a double slash.
        return f"root://{netloc}/{full}"
    return f"{scheme}://{netloc}{full}"
