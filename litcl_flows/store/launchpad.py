"""The launchpad of the configured mode: submit workflows, run workers, summarise states."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from contextlib import chdir, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import TYPE_CHECKING

from litcl_flows.settings import LitclSettings
from litcl_flows.store import embedded
from litcl_flows.store.config import is_initialised, job_store, write_config_files

if TYPE_CHECKING:
    from fireworks import LaunchPad, Workflow


def open_launchpad(settings: LitclSettings, read_only: bool = False) -> LaunchPad:
    """The LaunchPad for these settings; embedded homes are initialised on first use."""
    if settings.mode == "mongodb":
        from fireworks import LaunchPad

        if not settings.launchpad_file.exists():
            raise FileNotFoundError(
                f"no {settings.launchpad_file}: run `litcl init --mode mongodb` first"
            )
        return LaunchPad.from_file(str(settings.launchpad_file))
    if not is_initialised(settings):
        write_config_files(settings)
    return embedded.open_embedded_launchpad(
        settings.launchpad_file, settings.launchpad_db_file, settings.lock_file, read_only
    )


def add_workflow(settings: LitclSettings, workflow: Workflow) -> int:
    """Add a workflow; return the FireWorks id of its first Firework (the workflow id)."""
    launchpad = open_launchpad(settings)
    id_map = launchpad.add_wf(workflow)
    embedded.save(launchpad)
    return min(id_map.values())


@dataclass(frozen=True)
class LaunchEvent:
    """One Firework run by :func:`run_workers`."""

    fw_id: int
    name: str
    state: str
    seconds: float
    done: int
    total: int


def _fworker(settings: LitclSettings):
    from fireworks import FWorker

    return FWorker(name=settings.fworker_name, category=settings.fworker_category or None)


def run_workers(
    settings: LitclSettings,
    max_launches: int = 0,
    on_start: Callable[[int, str, int, int], None] | None = None,
    on_finish: Callable[[LaunchEvent], None] | None = None,
) -> list[LaunchEvent]:
    """Run READY Fireworks one after another in this process until none is left.

    Each job runs in its own folder under ``$LITCL_HOME/launches`` and writes its output
    to the configured JobStore; the embedded launchpad is saved after every Firework, so
    a killed worker loses at most the job it was running (which is READY again on the
    next start, and whose rerun overwrites, never duplicates, its store document).
    """
    import jobflow
    from fireworks.core.rocket_launcher import launch_rocket

    launchpad = open_launchpad(settings)
    fworker = _fworker(settings)
    settings.launches_dir.mkdir(parents=True, exist_ok=True)
    events: list[LaunchEvent] = []
    # FireWorks' JobFiretask falls back to jobflow's global store (no store is serialised
    # into the Fireworks): point it at ours for the run, then put the caller's back.
    previous_store = jobflow.SETTINGS.JOB_STORE
    jobflow.SETTINGS.JOB_STORE = job_store(settings)
    try:
        while not max_launches or len(events) < max_launches:
            fw_id = _next_ready_id(launchpad, fworker)
            if fw_id is None:
                break
            firework = launchpad.get_fw_by_id(fw_id)
            total = len(events) + _count_runnable(launchpad)
            if on_start:
                on_start(fw_id, firework.name, len(events), total)
            launch_dir = settings.launches_dir / f"fw_{fw_id}_{time.strftime('%Y%m%d-%H%M%S')}"
            launch_dir.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            # Jobs print and warn (model banners, optimiser logs): keep that in the launch
            # folder so the worker's own output stays readable and `--json` stays parseable.
            with (
                chdir(launch_dir),
                open("job.out", "w") as job_out,
                redirect_stdout(job_out),
                redirect_stderr(job_out),
            ):
                launch_rocket(launchpad, fworker, fw_id=fw_id, strm_lvl="WARNING")
            embedded.save(launchpad)
            state = launchpad.get_fw_by_id(fw_id).state
            event = LaunchEvent(
                fw_id, firework.name, state, time.perf_counter() - start, len(events) + 1, total
            )
            events.append(event)
            if on_finish:
                on_finish(event)
    finally:
        jobflow.SETTINGS.JOB_STORE = previous_store
    return events


def _next_ready_id(launchpad: LaunchPad, fworker) -> int | None:
    query = fworker.query
    query["state"] = "READY"
    found = launchpad.fireworks.find_one(query, {"fw_id": 1}, sort=[("fw_id", 1)])
    return found["fw_id"] if found else None


def _count_runnable(launchpad: LaunchPad) -> int:
    return launchpad.fireworks.count_documents({"state": {"$in": ["READY", "WAITING"]}})


@dataclass(frozen=True)
class WorkflowSummary:
    """A workflow and how many of its Fireworks are in each state."""

    fw_id: int
    name: str
    state: str
    fw_states: dict[str, int]
    updated_on: str


def workflow_summaries(settings: LitclSettings) -> list[WorkflowSummary]:
    """Every workflow on the launchpad (read-only: safe beside a running worker)."""
    launchpad = open_launchpad(settings, read_only=True)
    summaries = []
    for wf in launchpad.workflows.find({}, sort=[("created_on", 1)]):
        states = Counter(wf["fw_states"].values())
        summaries.append(
            WorkflowSummary(
                fw_id=min(wf["nodes"]),
                name=wf["name"],
                state=wf["state"],
                fw_states=dict(sorted(states.items())),
                updated_on=str(wf.get("updated_on", "")),
            )
        )
    return summaries
