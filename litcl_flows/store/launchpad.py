"""The launchpad of the configured mode: submit workflows, run workers, summarise states."""

from __future__ import annotations

import io
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import chdir, contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from litcl_flows.settings import LitclSettings
from litcl_flows.store import embedded
from litcl_flows.store.config import (
    connected_job_store,
    is_initialised,
    job_store,
    launchpad_spec,
    write_config_files,
)
from litcl_flows.store.indexes import ensure_indexes

if TYPE_CHECKING:
    from fireworks import LaunchPad, Workflow


def open_launchpad(settings: LitclSettings, read_only: bool = False) -> LaunchPad:
    """The LaunchPad for these settings; embedded homes are initialised on first use."""
    if settings.mode == "mongodb":
        from fireworks import LaunchPad

        embedded.use_pymongo()
        # From settings, not from my_launchpad.yaml: the password comes from the
        # environment (LITCL_MONGO_PASSWORD) unless the user chose to store it.
        return LaunchPad.from_dict(launchpad_spec(settings))
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
class EarlierStudy:
    """What a study name already holds: its workflows and their states, its stored outputs."""

    name: str
    workflow_states: dict[int, str]
    n_outputs: int

    def __str__(self) -> str:
        workflows = ", ".join(f"{fw_id} {state}" for fw_id, state in self.workflow_states.items())
        return (
            f"study {self.name!r} (workflow {workflows or 'none'} on the launchpad, "
            f"{self.n_outputs} stored outputs)"
        )


def find_study(settings: LitclSettings, name: str) -> EarlierStudy | None:
    """The workflows (by name) and stored outputs (by ``metadata.study``) of study ``name``.

    Study names key every stored document (``litcl query --study``): a second study of the
    same name would mix its numbers with the first's.
    """
    launchpad = open_launchpad(settings, read_only=True)
    workflow_states = {
        min(wf["nodes"]): wf["state"]
        for wf in launchpad.workflows.find({"name": name}, sort=[("created_on", 1)])
    }
    with connected_job_store(settings) as store:
        n_outputs = store.count({"metadata.study": name})
    if not workflow_states and not n_outputs:
        return None
    return EarlierStudy(name, workflow_states, n_outputs)


def remove_study(settings: LitclSettings, earlier: EarlierStudy) -> None:
    """Delete an earlier study's workflows and stored outputs (with their large data).

    Refused while one of its jobs runs: its worker would store an output afterwards.
    """
    running = [fw_id for fw_id, state in earlier.workflow_states.items() if state == "RUNNING"]
    if running:
        raise ValueError(
            f"study {earlier.name!r} is running (workflow {running[0]}): stop its workers "
            "first, or rename the new study"
        )
    launchpad = open_launchpad(settings)
    # FireWorks prints what it removes: keep stdout for the command's own (JSON) output.
    with redirect_stdout(io.StringIO()):
        for fw_id in earlier.workflow_states:
            launchpad.delete_wf(fw_id, delete_launch_dirs=False)
    embedded.save(launchpad)
    if not earlier.n_outputs:
        return
    with connected_job_store(settings) as store:
        store.remove_docs({"metadata.study": earlier.name})


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


def rerun_lost_runs(settings: LitclSettings, lost_after_s: int) -> list[int]:
    """Put Fireworks whose worker died (no ping for ``lost_after_s``) back to READY.

    FireWorks' ``lpad detect_lostruns --rerun``. A queue job killed at walltime leaves its
    Firework RUNNING forever otherwise; rerunning restarts the job from its inputs. In
    embedded mode the launchpad lock, held here, proves that no other worker is alive, so
    every RUNNING Firework is lost whatever ``lost_after_s`` says.
    """
    launchpad = open_launchpad(settings)
    expiration_s = 0 if settings.mode == "embedded" else lost_after_s
    _, lost_fw_ids, _ = launchpad.detect_lostruns(expiration_secs=expiration_s, rerun=True)
    embedded.save(launchpad)
    return sorted(lost_fw_ids)


def run_workers(
    settings: LitclSettings,
    max_launches: int = 0,
    on_start: Callable[[int, str, int, int], None] | None = None,
    on_finish: Callable[[LaunchEvent], None] | None = None,
) -> list[LaunchEvent]:
    """Run READY Fireworks one after another in this process until none is left.

    Each job runs in its own folder under ``$LITCL_HOME/launches`` and writes its output
    to the configured JobStore; the embedded launchpad is saved when a Firework starts
    (so ``litcl status`` shows it RUNNING) and when it ends, so a killed worker loses at
    most the job it was running (which :func:`rerun_lost_runs` puts back to READY, and
    whose rerun overwrites, never duplicates, its store document).
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
    jobflow.SETTINGS.JOB_STORE = ensure_indexes(job_store(settings))
    # launch_rocket checks the Firework out and runs it in one call, with no hook between:
    # an instance wrapper saves the embedded launchpad right after the checkout.
    checkout = launchpad.checkout_fw

    def checkout_and_save(*args: object, **kwargs: object) -> tuple:
        checked_out = checkout(*args, **kwargs)
        embedded.save(launchpad)
        return checked_out

    launchpad.checkout_fw = checkout_and_save
    try:
        while not max_launches or len(events) < max_launches:
            # FireWorks' own choice of the next Firework (priority, then FIFO/FILO), without
            # checking it out: launch_rocket does that; we need its name for the progress.
            firework = launchpad._get_a_fw_to_run(fworker.query, checkout=False)
            if firework is None:
                break
            fw_id = firework.fw_id
            total = len(events) + _count_runnable(launchpad, fworker)
            if on_start:
                on_start(fw_id, firework.name, len(events), total)
            launch_dir = settings.launches_dir / f"fw_{fw_id}_{time.strftime('%Y%m%d-%H%M%S')}"
            launch_dir.mkdir(parents=True, exist_ok=True)
            start = time.perf_counter()
            with chdir(launch_dir), _output_to(launch_dir / "job.out"):
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
        del launchpad.checkout_fw
        jobflow.SETTINGS.JOB_STORE = previous_store
    return events


@contextmanager
def _output_to(path: Path) -> Iterator[None]:
    """Send everything a job prints, its child processes' output included, to ``path``.

    Jobs print and warn (model banners, optimiser logs, ``lmp`` and ``dp`` output): this
    keeps the worker's own output readable and ``--json`` output parseable. File
    descriptors 1 and 2 are redirected (children inherit them), and Python's streams too
    (they may not be the real descriptors, e.g. under a test runner). Python's streams are
    pointed at descriptors 1 and 2 themselves, never at the file: loggers created during a
    job (FireWorks keeps its handlers for the life of the process) then outlive the file.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(path, "w") as handle:
        try:
            os.dup2(handle.fileno(), 1)
            os.dup2(handle.fileno(), 2)
            with redirect_stdout(_FD_STREAMS[1]), redirect_stderr(_FD_STREAMS[2]):
                yield
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])


#: Text streams on descriptors 1 and 2 by number, whatever those point at (never closed).
_FD_STREAMS = {fd: open(fd, "w", buffering=1, closefd=False) for fd in (1, 2)}  # noqa: SIM115


def _count_runnable(launchpad: LaunchPad, fworker) -> int:
    """Fireworks this worker may still run: READY now, or WAITING on their parents."""
    query = {**fworker.query, "state": {"$in": ["READY", "WAITING"]}}
    return launchpad.fireworks.count_documents(query)


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


@contextmanager
def _launchpad_file_with_credentials(settings: LitclSettings) -> Iterator[Path]:
    """A launchpad file FireWorks' own commands can read, password included.

    When the password is not stored in ``my_launchpad.yaml`` it is written, for the
    command's duration only, to a private folder in ``/dev/shm`` (memory, not disk).
    """
    stored = settings.store_password or settings.mongo_password is None
    if settings.mode != "mongodb" or stored:
        yield settings.launchpad_file
        return
    memory = Path("/dev/shm")
    with tempfile.TemporaryDirectory(dir=memory if memory.is_dir() else None) as private:
        path = Path(private) / "my_launchpad.yaml"
        path.touch(mode=0o600)
        path.write_text(yaml.safe_dump(launchpad_spec(settings)), encoding="utf-8")
        yield path


def run_fireworks_cli(settings: LitclSettings, main: str, args: list[str]) -> int:
    """FireWorks' own ``lpad``, ``rlaunch`` or ``qlaunch`` (``main``) on this launchpad.

    Embedded: in this process under the launchpad lock (``rlaunch multi`` and ``qlaunch``
    refused). MongoDB: with the password from the environment, and for ``rlaunch`` the
    JobStore of these settings, so that none needs a password on disk.
    """
    if settings.mode == "embedded":
        if main == "qlaunch":
            raise ValueError(f"queue workers run on other machines: {embedded.CONCURRENCY_HINT}")
        if not is_initialised(settings):
            write_config_files(settings)
        return embedded.run_fireworks_command(
            main,
            args,
            settings.launchpad_file,
            settings.fworker_file,
            settings.launchpad_db_file,
            settings.lock_file,
        )
    if main == "qlaunch":
        if settings.mongo_username and not settings.store_password:
            raise ValueError(
                "queue jobs read the MongoDB password from my_launchpad.yaml (mode 0600), "
                "which --no-store-password left without it: run `litcl init --store-password`"
            )
        # Slurm's default --export=ALL copies the submitting environment into the job
        # record; the password is in the 0600 files, so the job does not need it there.
        os.environ.pop("LITCL_MONGO_PASSWORD", None)
    with _launchpad_file_with_credentials(settings) as launchpad_file:
        if main == "lpad":
            from fireworks.scripts.lpad_run import lpad

            return lpad(["-l", str(launchpad_file), *args])
        if main == "qlaunch":
            from fireworks.scripts.qlaunch_run import qlaunch

            return qlaunch(["-l", str(launchpad_file), *args])
        import jobflow
        from fireworks.scripts.rlaunch_run import rlaunch

        jobflow.SETTINGS.JOB_STORE = ensure_indexes(job_store(settings))
        return rlaunch(["-l", str(launchpad_file), "-w", str(settings.fworker_file), *args])
