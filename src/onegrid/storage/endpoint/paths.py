"""From a request path to a file below the root, and nowhere else.

Every way out is closed here, once: `..` (also percent-encoded, which the server has
decoded before we see it), absolute or empty segments, NUL bytes, the endpoint's own
bookkeeping names, and symbolic links that point outside the root (checked on the
resolved real path, for files that exist and for the parents of files that will).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from onegrid.errors import Forbidden, InvalidInput, NotFound
from onegrid.storage.endpoint.config import META_DIR, PARTIAL_PREFIX


@dataclass(frozen=True)
class StoragePath:
    """One request path, resolved. The base path (`/belle`) is the root folder."""

    logical: str  # '/belle/mc/file', normalised, what URLs and listings show
    relpath: str  # 'mc/file': below the root, no leading slash ('' for the root itself)
    fs: Path  # the file or directory on disk

    @property
    def scope_path(self) -> str:
        """The path token scopes speak of: relative to the base path (common JWT profile)."""
        return "/" + self.relpath

    @property
    def is_root(self) -> bool:
        return self.relpath == ""


def is_hidden_name(name: str) -> bool:
    """Internal names: our partial uploads, the tape emulation's `.name.tape-PID` swaps."""
    return name.startswith(PARTIAL_PREFIX) or (name.startswith(".") and ".tape-" in name)


class PathResolver:
    def __init__(self, root: Path, base_path: str) -> None:
        self.root = root
        self.real_root = os.path.realpath(root)
        self.base_path = base_path

    def resolve(self, path: str) -> StoragePath:
        """`path` as the server decoded it (scope["path"])."""
        if "\x00" in path:
            raise InvalidInput("path contains a NUL byte")
        if not path.startswith("/"):
            raise InvalidInput(f"path {path!r} must be absolute")
        segments = [s for s in path.split("/") if s]
        for seg in segments:
            if seg in (".", ".."):
                raise Forbidden(f"path {path!r} may not contain '.' or '..' segments")
            if seg == META_DIR or seg.startswith(PARTIAL_PREFIX) or is_hidden_name(seg):
                raise Forbidden(f"path {path!r} names the endpoint's internal files")
            if "\\" in seg:
                raise InvalidInput(f"path {path!r} contains a backslash")
        logical = "/" + "/".join(segments)
        relative = self.relative(logical)
        if relative is None:
            raise NotFound(f"{logical} is outside this endpoint's namespace ({self.base_path})")
        fs = Path(self.real_root, relative) if relative else Path(self.real_root)
        real = os.path.realpath(fs)
        if real != self.real_root and not real.startswith(self.real_root + os.sep):
            raise Forbidden(f"path {path!r} leads outside the storage root")
        return StoragePath(logical=logical, relpath=relative, fs=fs)

    def relative(self, logical: str) -> str | None:
        """'/belle/mc/f' → 'mc/f'; None when not below the base path."""
        base = self.base_path
        if base == "/":
            return logical.strip("/")
        if logical == base:
            return ""
        if logical.startswith(base + "/"):
            return logical[len(base) + 1:]
        return None

    def logical(self, relpath: str) -> str:
        return (self.base_path.rstrip("/") + "/" + relpath).rstrip("/") or "/"

    def resolve_url(self, url_or_path: str) -> StoragePath:
        """A `Destination:` header of MOVE: a full URL on this endpoint or a bare path."""
        parts = urlsplit(url_or_path)
        return self.resolve(unquote(parts.path if parts.scheme else url_or_path.split("?")[0]))
