"""Native or in a container: the pilot's pure decision for one job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Launch:
    container_image: str | None  # None: run natively
    reason: str


def decide(job_platform: str, node_platform: str, images: Mapping[str, str], apptainer: str | None) -> Launch:
    """Run natively when the job asks for no platform or the node's own; in Apptainer when
    the job's platform has a configured image and apptainer exists; else refuse (None image
    and a reason starting with "cannot")."""
    if not job_platform or job_platform.upper() == node_platform.upper():
        return Launch(None, "native")
    image = images.get(job_platform.upper())
    if image and apptainer:
        return Launch(image, f"apptainer {image}")
    if image:
        return Launch(None, f"cannot run {job_platform}: apptainer is not installed")
    return Launch(None, f"cannot run {job_platform}: no container image for it")


def command(argv: list[str], launch: Launch, apptainer: str | None, workdir: str) -> list[str]:
    if launch.container_image is None or apptainer is None:
        return argv
    return [apptainer, "exec", "--bind", f"{workdir}:{workdir}", "--pwd", workdir, launch.container_image, *argv]
