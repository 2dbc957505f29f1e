"""The pilot's data steps, behind small interfaces: fetching input data and storing outputs.

The pilot's defaults go through the catalogue and storage (`catalog_input.CatalogInputData`,
`catalog_output.CatalogOutputData`). Here: `NoInputData` refuses jobs with input data it
cannot fetch, `LocalInputData` reads a directory laid out by LFN, and `RecordOutputs`
computes each output's size and adler32 and reports them on the job without storing them
(what the catalogue step falls back to where a site has no storage).
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol


class InputDataStep(Protocol):
    def fetch(self, lfns: Sequence[str], workdir: Path) -> None:
        """Put every input file into `workdir` (checksums checked); raise on failure."""
        ...


class OutputDataStep(Protocol):
    def store(self, files: Sequence[tuple[Path, str]], output_se: str | None, *, owner: str = "",
              meta: Mapping[str, Any] | None = None, dataset: str | None = None) -> list[dict[str, Any]]:
        """Upload and register (file, lfn) pairs with the job's output metadata, attached to
        `dataset`; return one record per file; raise on failure."""
        ...


def adler32_of(path: Path) -> str:
    value = 1
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            value = zlib.adler32(chunk, value)
    return f"{value & 0xFFFFFFFF:08x}"


class NoInputData:
    def fetch(self, lfns: Sequence[str], workdir: Path) -> None:
        if lfns:
            raise RuntimeError("this pilot has no catalogue access to fetch input data")


@dataclass
class LocalInputData:
    """Input files from a local directory laid out by LFN (tests, one-machine grids)."""

    root: Path

    def fetch(self, lfns: Sequence[str], workdir: Path) -> None:
        for lfn in lfns:
            src = self.root / lfn.lstrip("/")
            if not src.is_file():
                raise RuntimeError(f"input {lfn} not found")
            (workdir / Path(lfn).name).write_bytes(src.read_bytes())


class RecordOutputs:
    def store(self, files: Sequence[tuple[Path, str]], output_se: str | None, *, owner: str = "",
              meta: Mapping[str, Any] | None = None, dataset: str | None = None) -> list[dict[str, Any]]:
        return [{"lfn": lfn, "name": path.name, "bytes": path.stat().st_size, "adler32": adler32_of(path),
                 "se": output_se, "registered": False} for path, lfn in files]
