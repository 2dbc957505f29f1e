"""DIRAC's job status model: the states, the transitions allowed between them, in one table.

Received → Checking → Waiting → Matched → Running → Completing → Done | Failed, with Stalled
(no heartbeat), Killed, Deleted and Rescheduled (back to Received, a bounded number of
times). `check_transition` is the one place that refuses an illegal change.
"""

from __future__ import annotations

import enum

from onegrid.errors import Conflict


class JobStatus(enum.StrEnum):
    RECEIVED = "Received"
    CHECKING = "Checking"
    STAGING = "Staging"
    WAITING = "Waiting"
    MATCHED = "Matched"
    RUNNING = "Running"
    COMPLETING = "Completing"
    STALLED = "Stalled"
    DONE = "Done"
    FAILED = "Failed"
    KILLED = "Killed"
    DELETED = "Deleted"
    RESCHEDULED = "Rescheduled"


S = JobStatus
FINAL: frozenset[JobStatus] = frozenset({S.DONE, S.FAILED, S.KILLED, S.DELETED})
ACTIVE: frozenset[JobStatus] = frozenset({S.MATCHED, S.RUNNING, S.COMPLETING, S.STALLED})

# from-state -> states it may move to. Rescheduled is transient: a rescheduled job is
# logged as Rescheduled and goes straight on to Received.
TRANSITIONS: dict[JobStatus, frozenset[JobStatus]] = {
    S.RECEIVED: frozenset({S.CHECKING, S.FAILED, S.KILLED, S.DELETED}),
    S.CHECKING: frozenset({S.WAITING, S.STAGING, S.FAILED, S.KILLED, S.DELETED, S.RESCHEDULED}),
    S.STAGING: frozenset({S.WAITING, S.CHECKING, S.FAILED, S.KILLED, S.DELETED}),
    S.WAITING: frozenset({S.MATCHED, S.FAILED, S.KILLED, S.DELETED, S.RESCHEDULED}),
    S.MATCHED: frozenset({S.RUNNING, S.COMPLETING, S.DONE, S.FAILED, S.STALLED, S.KILLED,
                          S.DELETED, S.RESCHEDULED}),
    S.RUNNING: frozenset({S.RUNNING, S.COMPLETING, S.DONE, S.FAILED, S.STALLED, S.KILLED,
                          S.DELETED, S.RESCHEDULED}),
    S.COMPLETING: frozenset({S.DONE, S.FAILED, S.STALLED, S.KILLED, S.DELETED, S.RESCHEDULED}),
    # A stalled job whose pilot comes back goes on running (DIRAC does the same).
    S.STALLED: frozenset({S.RUNNING, S.COMPLETING, S.DONE, S.FAILED, S.KILLED, S.DELETED,
                          S.RESCHEDULED}),
    S.RESCHEDULED: frozenset({S.RECEIVED}),
    S.DONE: frozenset({S.DELETED, S.RESCHEDULED}),
    S.FAILED: frozenset({S.DELETED, S.RESCHEDULED}),
    S.KILLED: frozenset({S.DELETED, S.RESCHEDULED}),
    S.DELETED: frozenset(),
}


def can_move(current: JobStatus, new: JobStatus) -> bool:
    return new in TRANSITIONS[current]


def check_transition(job_id: int, current: JobStatus, new: JobStatus) -> None:
    """Raise Conflict when `current → new` is not in the table."""
    if not can_move(current, new):
        raise Conflict(f"job {job_id}: cannot go from {current} to {new}")


class PilotStatus(enum.StrEnum):
    SUBMITTED = "Submitted"
    RUNNING = "Running"
    DONE = "Done"
    FAILED = "Failed"
    ABORTED = "Aborted"


PILOT_ALIVE: frozenset[PilotStatus] = frozenset({PilotStatus.SUBMITTED, PilotStatus.RUNNING})


class ProductionStatus(enum.StrEnum):
    ACTIVE = "Active"
    STOPPED = "Stopped"
    COMPLETED = "Completed"
