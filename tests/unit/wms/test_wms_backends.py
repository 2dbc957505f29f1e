"""What the batch backends would submit, and the pilot's container decision."""

from __future__ import annotations

from onegrid.wms.backends import PilotRequest
from onegrid.wms.backends.htcondor import render, submit_description
from onegrid.wms.backends.slurm import batch_script
from onegrid.wms.models import ComputeQueue
from onegrid.wms.pilot.container import command, decide


def request(**opts: object) -> PilotRequest:
    q = ComputeQueue(name="kek-mc", site="KEK", platform="EL8", tags=["MultiCore"], cores=8, ram_mb=16000,
                     backend="htcondor", options=dict(opts))
    return PilotRequest(pilot_id="pilot-1", queue=q, server="https://grid.example", token="secret-token",
                        workdir="/scratch/pilots", idle_seconds=120)


def test_htcondor_submit_description_runs_the_pilot_with_the_queue_resources() -> None:
    desc = submit_description(request(condor_requirements="(OpSysMajorVer == 8)"), "/usr/bin/python3")
    assert desc["executable"] == "/usr/bin/python3" and desc["request_cpus"] == "8"
    assert desc["request_memory"] == "16000" and desc["requirements"] == "(OpSysMajorVer == 8)"
    args = desc["arguments"]
    assert "-m onegrid pilot --server https://grid.example --site KEK --queue kek-mc --cores 8" in args
    assert "--tags MultiCore" in args and "secret-token" not in args
    assert "ONEGRID_PILOT_TOKEN=secret-token" in desc["environment"]
    assert render(desc).endswith("queue 1\n")


def test_slurm_script_asks_for_the_cores_and_reads_the_token_from_a_file() -> None:
    script = batch_script(request(partition="grid", time="24:00:00"), "/usr/bin/python3")
    assert "#SBATCH --cpus-per-task=8" in script and "#SBATCH --mem=16000M" in script
    assert "#SBATCH --partition=grid" in script and "#SBATCH --time=24:00:00" in script
    assert "secret-token" not in script and "/scratch/pilots/pilot-1.token" in script
    assert script.splitlines()[-1].startswith("exec /usr/bin/python3 -m onegrid pilot --server https://grid.example")


def test_container_decision() -> None:
    images = {"EL7": "/cvmfs/el7.sif"}
    assert decide("", "EL9", images, None).container_image is None
    assert decide("EL9", "EL9", images, "/usr/bin/apptainer").reason == "native"
    launch = decide("EL7", "EL9", images, "/usr/bin/apptainer")
    assert launch.container_image == "/cvmfs/el7.sif"
    assert command(["run.sh"], launch, "/usr/bin/apptainer", "/w")[:2] == ["/usr/bin/apptainer", "exec"]
    assert decide("EL7", "EL9", images, None).reason.startswith("cannot run EL7: apptainer")
    assert decide("EL6", "EL9", images, "/usr/bin/apptainer").reason.startswith("cannot run EL6: no container")
