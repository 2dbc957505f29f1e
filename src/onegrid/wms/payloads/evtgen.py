"""A tiny event generator: the default production payload (`python -m onegrid.wms.payloads.evtgen`).

Writes `--events` events (one JSON line each, reproducible from `--seed`) to `--out`,
with a header line, and prints a summary with the file's adler32 to stdout.
"""

from __future__ import annotations

import argparse
import json
import random
import zlib
from pathlib import Path


def generate(events: int, first: int, seed: int, run: int, stream: int) -> list[dict[str, object]]:
    rng = random.Random(seed)
    out = []
    for i in range(events):
        n_tracks = rng.randint(2, 12)
        out.append({"exp": 0, "run": run, "stream": stream, "event": first + i,
                    "tracks": [[round(rng.gauss(0, 1.5), 4) for _ in range(3)] for _ in range(n_tracks)]})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--events", type=int, required=True)
    p.add_argument("--first", type=int, default=0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run", type=int, default=0)
    p.add_argument("--stream", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    if a.events < 0:
        p.error("--events must be ≥ 0")
    events = generate(a.events, a.first, a.seed, a.run, a.stream)
    header = {"generator": "onegrid.evtgen", "events": a.events, "first": a.first, "seed": a.seed,
              "run": a.run, "stream": a.stream}
    text = "\n".join(json.dumps(x, separators=(",", ":")) for x in [header, *events]) + "\n"
    Path(a.out).write_text(text)
    adler = zlib.adler32(text.encode()) & 0xFFFFFFFF
    Path("evtgen.log").write_text(f"generated {a.events} events into {a.out} adler32={adler:08x}\n")
    print(json.dumps({"out": a.out, "events": a.events, "adler32": f"{adler:08x}"}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
