"""Where a job's input files are: the seam between checking and the catalogue.

`InputDataResolver.sites_for(lfns)` answers, for each LFN, the sites whose storage holds
it on disk (and separately those where it is only on tape). Checking intersects them:
candidate sites are those that hold every input on disk.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class Locations:
    disk: dict[str, set[str]] = field(default_factory=dict)  # lfn -> sites
    tape: dict[str, set[str]] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    dids: dict[str, tuple[str, str]] = field(default_factory=dict)  # lfn -> (scope, name), when known


class InputDataResolver(Protocol):
    def locate(self, lfns: Sequence[str]) -> Locations | None:
        """None when no catalogue is available (jobs then run anywhere)."""
        ...


class NoCatalogue:
    def locate(self, lfns: Sequence[str]) -> Locations | None:
        return None


@dataclass
class StaticLocations:
    """A fixed table of replicas (for tests and the simulator)."""

    disk: dict[str, set[str]]
    tape: dict[str, set[str]] = field(default_factory=dict)

    def locate(self, lfns: Sequence[str]) -> Locations | None:
        out = Locations()
        for lfn in lfns:
            if lfn in self.disk:
                out.disk[lfn] = set(self.disk[lfn])
            elif lfn in self.tape:
                out.tape[lfn] = set(self.tape[lfn])
            else:
                out.missing.append(lfn)
        return out


def candidate_sites(loc: Locations, lfns: Sequence[str]) -> set[str]:
    """Sites holding every input on disk."""
    sites: set[str] | None = None
    for lfn in lfns:
        here = loc.disk.get(lfn, set())
        sites = set(here) if sites is None else sites & here
    return sites or set()
