"""File replacement for eviction and recall: a new inode written beside the old one, then
swapped in atomically with the old one's mode, times and extended attributes.

The endpoint keeps checksums in an xattr checked against size and mtime, so they stay
valid across eviction (a sparse stub of the same size) and recall (the same bytes).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path


def copy_into(source: Path, fd: int) -> None:
    with source.open("rb") as src:
        while chunk := src.read(1 << 20):
            os.write(fd, chunk)


def fill_partial(path: Path, fill: Callable[[int], None], *, durable: bool = True) -> Path:
    """A new file beside `path` (named so the endpoint hides it), written by `fill`.

    `durable`: fsync before it replaces anything (recalled bytes); a stub has none to lose.
    """
    partial = path.with_name(f".{path.name}.tape-{os.getpid()}-{threading.get_ident()}")
    partial.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        fill(fd)
        if durable:
            os.fsync(fd)
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    os.close(fd)
    return partial


def swap_in(partial: Path, path: Path) -> None:
    """Replace `path` by `partial` atomically, keeping its mode, times and xattrs.

    The endpoint keeps checksums in an xattr checked against size and mtime, so they stay
    valid across eviction and recall. A reader that opened the old inode reads it to the end.
    """
    try:
        st = path.stat()
    except FileNotFoundError:
        os.replace(partial, path)
        return
    os.chmod(partial, st.st_mode & 0o7777)
    with contextlib.suppress(OSError):
        for name in os.listxattr(path):
            os.setxattr(partial, name, os.getxattr(path, name))
    os.utime(partial, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(partial, path)
