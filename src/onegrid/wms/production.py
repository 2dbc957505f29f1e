"""Production definitions (the seed's "Multicore Jobs" JSON) and their split into jobs: pure.

    {"ProductionName": "MCTest_charged_BGx0", "ProductionGroup": "charged", ...,
     "RunEvents": {"1003": {"0": 1000}}, "MaxJobEvents": 200, "Stream": 0,
     "ResourceTag": "MultiCore,EL7orEL8"}

Each (run, stream) is cut into jobs of at most `MaxJobEvents` events, each with its first
event, its random seed and an output LFN `/belle/MC/<release>/<production>/s<stream>/r<run>/<file>`;
the pilot registers the output in the dataset `belle:` + that directory, with the run,
stream, event count, data type and production as catalogue metadata.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from onegrid.errors import InvalidInput
from onegrid.wms.models import JobDescription

DEFAULT_EXECUTABLE = "python"


class ProductionDefinition(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="allow")

    name: str = Field(alias="ProductionName", min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    group: str = Field(alias="ProductionGroup", min_length=1)
    run_events: dict[int, dict[int, int]] = Field(alias="RunEvents")
    max_job_events: int = Field(alias="MaxJobEvents", ge=1)
    stream: int | None = Field(None, alias="Stream")
    resource_tag: str | None = Field(None, alias="ResourceTag")
    release: str | None = Field(None, alias="SoftwareRelease")
    executable: str | None = Field(None, alias="Executable")
    arguments: str | None = Field(None, alias="Arguments")
    input_sandbox: list[str] = Field(default_factory=list, alias="InputSandbox")
    output_data_type: str = Field("mdst", alias="OutputDataType")
    output_se: str | None = Field(None, alias="OutputSE")
    priority: int = Field(5, alias="Priority", ge=0, le=10)
    cpu_time: int = Field(3600, alias="CPUTime", ge=1)

    @field_validator("run_events")
    @classmethod
    def _positive(cls, v: dict[int, dict[int, int]]) -> dict[int, dict[int, int]]:
        if not v:
            raise ValueError("no run")
        for run, streams in v.items():
            for stream, events in streams.items():
                if events < 1 or run < 0 or stream < 0:
                    raise ValueError(f"run {run} stream {stream}: events must be positive")
        return v


def parse_definition(text: str | bytes | dict[str, Any]) -> ProductionDefinition:
    """Parse a definition as written, including the seed's `...` placeholder lines."""
    if isinstance(text, dict):
        raw = text
    else:
        if isinstance(text, bytes):
            text = text.decode()
        # The seed elides fields with a bare `...` line; drop such lines and trailing commas.
        cleaned = "\n".join(line for line in text.splitlines() if line.strip() not in ("...", "…", "...,"))
        cleaned = re.sub(r",(\s*[}\]])", r"\1", cleaned)
        try:
            raw = json.loads(cleaned)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"production definition is not JSON: {exc}") from exc
        if not isinstance(raw, dict):
            raise InvalidInput("production definition must be a JSON object")
    try:
        return ProductionDefinition.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"]) or "definition"
        raise InvalidInput(f"production definition: {field}: {err['msg']}") from exc


def seed_for(name: str, run: int, stream: int, first: int) -> int:
    digest = hashlib.sha256(f"{name}/{run}/{stream}/{first}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def lfn_dir(release: str, production: str, stream: int, run: int) -> str:
    return f"/belle/MC/{release}/{production}/s{stream}/r{run}"


def output_dataset(release: str, production: str, stream: int, run: int) -> str:
    """The dataset a production's outputs of one run and stream are attached to."""
    return f"belle:{lfn_dir(release, production, stream, run)}"


def output_datasets(defn: ProductionDefinition, release: str) -> list[str]:
    return [output_dataset(release, defn.name, stream, run)
            for run, streams in sorted(defn.run_events.items()) for stream in sorted(streams)]


def split(defn: ProductionDefinition, *, release: str, production_id: int,
          start_after: dict[tuple[int, int], int] | None = None) -> list[JobDescription]:
    """The jobs of a production: ≤ MaxJobEvents events each, per run and stream.
    `start_after[(run, stream)]` is the number of events already split (for `extend`)."""
    jobs: list[JobDescription] = []
    for run, streams in sorted(defn.run_events.items()):
        for stream, events in sorted(streams.items()):
            first = (start_after or {}).get((run, stream), 0)
            end = first + events
            while first < end:
                n = min(defn.max_job_events, end - first)
                jobs.append(_job(defn, release, production_id, run, stream, first, n))
                first += n
    return jobs


def _job(defn: ProductionDefinition, release: str, production_id: int, run: int, stream: int, first: int,
         n: int) -> JobDescription:
    out_name = f"{defn.output_data_type}_{defn.name}_r{run}_s{stream}_{first:08d}.root"
    seed = seed_for(defn.name, run, stream, first)
    default_args = (f"-m onegrid.wms.payloads.evtgen --events {n} --first {first} --seed {seed} "
                    f"--run {run} --stream {stream} --out {out_name}")
    args = (defn.arguments or default_args).format(events=n, first=first, seed=seed, run=run, stream=stream,
                                                   out=out_name) if defn.arguments else default_args
    return JobDescription.model_validate({
        "Executable": defn.executable or DEFAULT_EXECUTABLE,
        "Arguments": args,
        "InputSandbox": defn.input_sandbox,
        "OutputData": [out_name],
        "OutputPath": lfn_dir(release, defn.name, stream, run),
        "OutputDataset": output_dataset(release, defn.name, stream, run),
        "OutputMetadata": {"datatype": defn.output_data_type, "project": defn.name, "run_number": run,
                           "stream_name": str(stream), "events": n, "version": release, "task_id": production_id,
                           "prod_step": "MC", "production_group": defn.group, "first_event": first, "seed": seed},
        "OutputSE": defn.output_se,
        "OutputSandbox": ["*.log"],
        "ResourceTag": defn.resource_tag,
        "Priority": defn.priority,
        "CPUTime": defn.cpu_time,
        "JobType": "MCSimulation",
        "JobGroup": defn.name,
        "JobName": f"{defn.name}_r{run}_s{stream}_{first}",
        "SoftwareRelease": release,
        "Environment": {"ONEGRID_PRODUCTION_ID": str(production_id), "ONEGRID_EVENTS": str(n),
                        "ONEGRID_FIRST_EVENT": str(first)},
    })


def events_of(desc: JobDescription) -> int:
    return int(desc.environment.get("ONEGRID_EVENTS", "0"))
