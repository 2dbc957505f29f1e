"""The Belle II resource-tag syntax of production definitions: `"MultiCore,EL7orEL8"`.

Comma-separated items; an item made of platform names joined by `or` (`EL7orEL8`) is the
set of platforms the job may run on; any other item is a tag (`MultiCore` → multicore,
which also means more than one processor, see `JobDescription.min_processors`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from onegrid.errors import InvalidInput

_PLATFORM = re.compile(r"^(EL|SL|CC|CentOS|Alma|Rocky|Ubuntu|Debian)\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class ResourceTag:
    tags: tuple[str, ...]
    platforms: tuple[str, ...]


@lru_cache(maxsize=1024)
def parse_resource_tag(text: str) -> ResourceTag:
    tags: list[str] = []
    platforms: list[str] = []
    for raw in text.split(","):
        item = raw.strip()
        if not item:
            continue
        parts = re.split(r"(?<=\d)or(?=[A-Za-z])", item)
        if all(_PLATFORM.match(p) for p in parts):
            platforms += [p.upper() for p in parts]
        elif not re.fullmatch(r"[A-Za-z0-9_.\-]+", item):
            raise InvalidInput(f"ResourceTag: item {item!r} is neither a tag nor platforms like EL7orEL8")
        else:
            tags.append(item)
    return ResourceTag(tags=tuple(tags), platforms=tuple(platforms))
