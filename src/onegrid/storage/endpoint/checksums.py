"""Checksums computed while bytes are written, kept with the file, served as RFC 3230 digests.

A file that arrived through this endpoint already has its adler32 (and md5 if configured)
in an extended attribute of the file itself, so `HEAD` with `Want-Digest` never reads the
data, and a rename (MOVE) carries the checksums along. The attribute records the size and
mtime it was computed for: a file changed behind our back is recomputed, never trusted.
Files that arrived otherwise are read once, lazily, and the result is kept the same way.
Where the filesystem refuses extended attributes a small SQLite index in the root's
hidden directory takes their place.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import hashlib
import json
import os
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # zlib-ng's SIMD adler32 is ~7x faster than zlib's; same values
    from zlib_ng.zlib_ng import adler32
except ImportError:  # pragma: no cover - the plain one is always there
    from zlib import adler32

XATTR = "user.onegrid.checksums"
ALGORITHMS = ("adler32", "md5")
READ_CHUNK = 4 * 1024 * 1024


class StreamingChecksum:
    """adler32 (and optionally md5) of a byte stream, fed in order."""

    def __init__(self, md5: bool = False) -> None:
        self.adler = 1
        self.size = 0
        self._md5 = hashlib.md5() if md5 else None

    def update(self, data: bytes | memoryview) -> None:
        self.adler = adler32(data, self.adler)
        self.size += len(data)
        if self._md5 is not None:
            self._md5.update(data)

    def values(self) -> dict[str, str]:
        out = {"adler32": format_adler32(self.adler)}
        if self._md5 is not None:
            out["md5"] = self._md5.hexdigest()
        return out


def format_adler32(value: int) -> str:
    return f"{value & 0xFFFFFFFF:08x}"


def parse_want_digest(header: str | None) -> list[str]:
    """Algorithms a `Want-Digest` header asks for that we serve, in its order (q=0 excluded)."""
    out: list[str] = []
    for item in (header or "").split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        q = params.strip()
        if q.startswith("q="):
            try:
                if float(q[2:]) <= 0:
                    continue
            except ValueError:
                continue
        if name in ALGORITHMS and name not in out:
            out.append(name)
    return out


# RFC 9530 names (IANA "Hash Algorithms for HTTP Digest Fields") ↔ ours.
REPR_NAMES = {"adler": "adler32", "md5": "md5"}


def parse_want_repr_digest(header: str | None) -> list[str]:
    """`Want-Repr-Digest: adler=5, md5=1` (a structured dictionary of preferences, 0 = not
    wanted) → our algorithm names, most preferred first."""
    wanted: list[tuple[int, str]] = []
    for item in (header or "").split(","):
        name, _, weight = item.strip().partition("=")
        ours = REPR_NAMES.get(name.strip().lower())
        if ours is None:
            continue
        try:
            w = int(weight.strip() or "1")
        except ValueError:
            continue
        if w > 0 and ours not in (a for _, a in wanted):
            wanted.append((w, ours))
    return [a for _, a in sorted(wanted, key=lambda pair: -pair[0])]


def repr_digest_header(values: dict[str, str], algorithms: list[str]) -> str:
    """`adler=:<base64 of 4 bytes>:, md5=:<base64>:` (RFC 9530 byte sequences)."""
    by_ours = {v: k for k, v in REPR_NAMES.items()}
    return ", ".join(f"{by_ours[a]}=:{base64.b64encode(bytes.fromhex(values[a])).decode()}:"
                     for a in algorithms if a in values)


def digest_header(values: dict[str, str], algorithms: list[str]) -> str:
    """`adler32=0a1b2c3d,md5=<base64>` (RFC 3230: md5 as base64 of the raw 16 bytes)."""
    parts = []
    for alg in algorithms:
        if alg not in values:
            continue
        if alg == "md5":
            parts.append("md5=" + base64.b64encode(bytes.fromhex(values["md5"])).decode())
        else:
            parts.append(f"{alg}={values[alg]}")
    return ",".join(parts)


def parse_digest_header(header: str | None) -> dict[str, str]:
    """A remote's `Digest:` as {algorithm: our text form} (adler32 hex, md5 hex)."""
    out: dict[str, str] = {}
    for item in (header or "").split(","):
        name, sep, value = item.strip().partition("=")
        if not sep:
            continue
        name, value = name.strip().lower(), value.strip()
        if name == "adler32":
            with contextlib.suppress(ValueError):
                out["adler32"] = format_adler32(int(value, 16))
        elif name == "md5":
            try:
                out["md5"] = base64.b64decode(value, validate=True).hex() if len(value) != 32 else value.lower()
            except ValueError:
                continue
    return out


def compute_file(path: Path, algorithms: tuple[str, ...] = ALGORITHMS) -> dict[str, str]:
    """Read the whole file once (in a worker thread: this is the slow path)."""
    cs = StreamingChecksum(md5="md5" in algorithms)
    with open(path, "rb", buffering=0) as f:
        while chunk := f.read(READ_CHUNK):
            cs.update(chunk)
    return cs.values()


@dataclass
class ChecksumStore:
    """Where checksums are kept: the file's xattr, or the SQLite fallback."""

    meta_dir: Path
    _db: sqlite3.Connection | None = field(default=None, init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    use_xattr: bool = field(default=True, init=False)

    def __post_init__(self) -> None:
        self.meta_dir.mkdir(parents=True, exist_ok=True)
        probe = self.meta_dir / "xattr-probe"
        probe.touch()
        try:
            os.setxattr(probe, XATTR, b"{}")
        except OSError:
            self.use_xattr = False
        finally:
            probe.unlink(missing_ok=True)

    # -- the index when xattrs are unavailable ----------------------------------------------

    def _index(self) -> sqlite3.Connection:
        if self._db is None:
            self._db = sqlite3.connect(self.meta_dir / "checksums.sqlite", check_same_thread=False)
            self._db.execute("CREATE TABLE IF NOT EXISTS sums (path TEXT PRIMARY KEY, record TEXT NOT NULL)")
        return self._db

    # -- public -------------------------------------------------------------------------------

    def save(self, target: Path | int, st: os.stat_result, values: dict[str, str], *, key: Path | None = None) -> None:
        """Record `values` for the file (an open fd or a path); `key` names it in the fallback index."""
        record = json.dumps({**values, "size": st.st_size, "mtime_ns": st.st_mtime_ns}).encode()
        if self.use_xattr:
            try:
                os.setxattr(target, XATTR, record)
                return
            except OSError as exc:
                if exc.errno not in (errno.ENOTSUP, errno.EOPNOTSUPP):
                    raise
        path = key if key is not None else target
        with self._lock:
            db = self._index()
            db.execute("INSERT OR REPLACE INTO sums VALUES (?, ?)", (str(path), record.decode()))
            db.commit()

    def load(self, path: Path, st: os.stat_result) -> dict[str, str]:
        """The kept checksums if they still describe this file, else {}."""
        raw: Any = None
        if self.use_xattr:
            try:
                raw = os.getxattr(path, XATTR)
            except OSError:
                raw = None
        else:
            with self._lock:
                row = self._index().execute("SELECT record FROM sums WHERE path = ?", (str(path),)).fetchone()
            raw = row[0] if row else None
        if not raw:
            return {}
        try:
            record = json.loads(raw)
        except ValueError:
            return {}
        if record.get("size") != st.st_size or record.get("mtime_ns") != st.st_mtime_ns:
            return {}
        return {k: v for k, v in record.items() if k in ALGORITHMS}

    def moved(self, old: Path, new: Path) -> None:
        if self.use_xattr:
            return  # the attribute travels with the inode
        with self._lock:
            db = self._index()
            db.execute("UPDATE sums SET path = ? WHERE path = ?", (str(new), str(old)))
            db.commit()

    def forget(self, path: Path) -> None:
        if self.use_xattr:
            return
        with self._lock:
            db = self._index()
            db.execute("DELETE FROM sums WHERE path = ? OR path LIKE ?", (str(path), f"{path}/%"))
            db.commit()

    def ensure(self, path: Path, algorithms: list[str]) -> dict[str, str]:
        """The checksums asked for, computing (and keeping) what is missing. Blocking."""
        st = os.stat(path)
        values = self.load(path, st)
        if all(a in values for a in algorithms):
            return values
        computed = compute_file(path)
        st2 = os.stat(path)
        if (st2.st_size, st2.st_mtime_ns) == (st.st_size, st.st_mtime_ns):
            with contextlib.suppress(OSError):
                self.save(path, st2, computed)
        return computed

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
