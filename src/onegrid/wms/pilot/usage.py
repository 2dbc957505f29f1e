"""CPU and memory of a payload's process group, read from /proc (Linux)."""

from __future__ import annotations

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def group_usage(pgid: int) -> tuple[float, float]:
    """(CPU seconds of the live processes, resident memory in MB) of one process group."""
    cpu, rss = 0.0, 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        # fields[2] is pgrp; utime/stime/cutime/cstime are 11..14; rss is 21 (after the name).
        if int(fields[2]) != pgid:
            continue
        cpu += sum(int(x) for x in fields[11:15]) / _TICKS
        rss += int(fields[21]) * _PAGE
    return cpu, rss / 1e6
