"""The one place that builds the custodian call for DeePMD-kit: train → freeze → compress → test."""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from custodian import Custodian
from custodian.custodian import ErrorHandler

from litcl_flows.engines.deepmd.dataset import check_deepmd_system
from litcl_flows.engines.deepmd.handlers import (
    DpCompressFailureHandler,
    DpDataErrorHandler,
    DpNanLossHandler,
    DpTrainingValidator,
    DpWalltimeHandler,
)
from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput, write_input_json
from litcl_flows.engines.deepmd.jobs import (
    COMPRESS_FALLBACK_FILE,
    COMPRESSED_MODEL,
    FROZEN_MODEL,
    VALID_SYSTEMS_FILE,
    DpCompressJob,
    DpFreezeJob,
    DpJob,
    DpTestJob,
    DpTrainJob,
    checkpoint_steps,
)
from litcl_flows.engines.deepmd.outputs import (
    DETAIL_PREFIX,
    LCURVE_FILE,
    lcurve_last_step,
    read_train_log,
    truncate_lcurve,
)

#: Files that let ``dp train --restart`` continue a run in another folder.
RESTART_GLOBS = ("checkpoint", "model.ckpt*", LCURVE_FILE)


def default_handlers(walltime_s: float | None = None) -> list[ErrorHandler]:
    """NaN loss, data errors, compression fallback, and a walltime stop when ``walltime_s``."""
    handlers: list[ErrorHandler] = [
        DpNanLossHandler(),
        DpDataErrorHandler(),
        DpCompressFailureHandler(),
    ]
    if walltime_s:
        handlers.append(DpWalltimeHandler(walltime_s=walltime_s))
    return handlers


@dataclass
class TrainingRun:
    """Outcome of :func:`run_deepmd_training` (paths relative to ``directory``)."""

    directory: str
    completed: bool
    last_step: int
    numb_steps: int
    frozen_model: str | None
    compressed_model: str | None
    compress_fallback_reason: str | None
    tested_model: str | None
    detail_prefix: str | None
    training_walltime_s: float | None
    steps_per_s: float | None
    run_walltime_s: float
    corrections: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form."""
        return asdict(self)


def copy_restart_files(prev_dir: str | Path, directory: str | Path) -> list[str]:
    """Copy checkpoints and ``lcurve.out`` of an unfinished run so ``dp train`` can resume."""
    copied = []
    for pattern in RESTART_GLOBS:
        for src in Path(prev_dir).glob(pattern):
            shutil.copy2(src, Path(directory) / src.name)
            copied.append(src.name)
    if "checkpoint" not in copied:
        raise FileNotFoundError(f"{Path(prev_dir) / 'checkpoint'}: no checkpoint to restart from")
    # Rows written after the last checkpoint are repeated by the resumed run: drop them.
    steps = checkpoint_steps(directory)
    if steps and (Path(directory) / LCURVE_FILE).is_file():
        truncate_lcurve(Path(directory) / LCURVE_FILE, steps[-1])
    return copied


def run_deepmd_training(
    directory: str | Path,
    training_input: DeepmdTrainingInput,
    type_map: list[str],
    train_systems: list[str],
    valid_systems: list[str],
    dp_cmd: str = "dp",
    compress: bool = True,
    threads: int | None = None,
    walltime_s: float | None = None,
    handlers: list[ErrorHandler] | None = None,
    max_errors: int = 5,
    polling_time_step_s: float = 10,
    monitor_freq: int = 30,
    restart_from: str | Path | None = None,
) -> TrainingRun:
    """Check the data, write ``input.json`` and run ``dp`` under custodian in ``directory``.

    Parameters
    ----------
    directory
        Run folder; system paths are relative to it (or absolute).
    training_input
        Model and training settings.
    type_map
        Element order of the model.
    train_systems, valid_systems
        deepmd/npy system folders.
    dp_cmd
        ``dp`` executable, optionally with a launch prefix (``"srun -n 1 dp"``).
    compress
        Run ``dp compress`` (a failure falls back to the frozen model, reason recorded).
    threads
        OpenMP/TensorFlow threads of every ``dp`` process (None: environment decides).
    walltime_s
        Batch wall time; adds :class:`DpWalltimeHandler` (stop early, resume in a new job).
    handlers
        Replaces :func:`default_handlers`.
    max_errors
        custodian's limit on corrections.
    polling_time_step_s, monitor_freq
        custodian polls ``dp`` every ``polling_time_step_s`` and runs the monitors (NaN
        loss, walltime) every ``monitor_freq`` polls.
    restart_from
        Folder of an unfinished run whose checkpoints this run resumes from.

    Returns
    -------
    TrainingRun
        ``completed`` is False when the run stopped for the wall time (resume it with
        ``restart_from``); any other failure raises custodian's error.
    """
    root = Path(directory).absolute()
    _prepare_run_folder(root, training_input, type_map, train_systems, valid_systems, restart_from)
    jobs = _dp_jobs(dp_cmd, compress, threads)
    custodian = Custodian(
        handlers if handlers is not None else default_handlers(walltime_s),
        jobs,
        validators=[DpTrainingValidator(training_input.numb_steps)],
        max_errors=max_errors,
        polling_time_step=polling_time_step_s,
        monitor_freq=monitor_freq,
        directory=str(root),
    )
    start = time.perf_counter()
    run_log = custodian.run()
    wall = time.perf_counter() - start
    return _training_run(root, training_input.numb_steps, run_log, wall)


def _prepare_run_folder(
    root: Path,
    training_input: DeepmdTrainingInput,
    type_map: list[str],
    train_systems: list[str],
    valid_systems: list[str],
    restart_from: str | Path | None,
) -> None:
    """Check the systems, copy the restart files, write ``input.json`` and the validation list."""
    root.mkdir(parents=True, exist_ok=True)
    for system in [*train_systems, *valid_systems]:
        check_deepmd_system(root / system, type_map)
    if restart_from is not None:
        copy_restart_files(restart_from, root)
    write_input_json(root, training_input, type_map, train_systems, valid_systems)
    (root / VALID_SYSTEMS_FILE).write_text("\n".join(valid_systems) + "\n")


def _dp_jobs(dp_cmd: str, compress: bool, threads: int | None) -> list[DpJob]:
    """train → freeze → (compress) → test, in the order custodian runs them."""
    jobs = [DpTrainJob(dp_cmd, threads=threads), DpFreezeJob(dp_cmd, threads=threads)]
    if compress:
        jobs.append(DpCompressJob(dp_cmd, threads=threads))
    jobs.append(DpTestJob(dp_cmd, detail_prefix=DETAIL_PREFIX, threads=threads))
    return jobs


def _training_run(
    root: Path, numb_steps: int, run_log: list[dict[str, Any]], wall_s: float
) -> TrainingRun:
    """The outcome read back from the run folder and custodian's log."""
    corrections = [
        {"job": entry["job"]["@class"], "errors": corr["errors"], "actions": corr["actions"]}
        for entry in run_log
        for corr in entry["corrections"]
    ]
    frozen = (root / FROZEN_MODEL).is_file()
    compressed = (root / COMPRESSED_MODEL).is_file()
    fallback_file = root / COMPRESS_FALLBACK_FILE
    tested = (root / f"{DETAIL_PREFIX}.e.out").is_file()
    timing = read_train_log(root / "train.log")
    return TrainingRun(
        directory=str(root),
        completed=frozen and tested,
        last_step=lcurve_last_step(root / LCURVE_FILE),
        numb_steps=numb_steps,
        frozen_model=FROZEN_MODEL if frozen else None,
        compressed_model=COMPRESSED_MODEL if compressed else None,
        compress_fallback_reason=(
            json.loads(fallback_file.read_text())["reason"] if fallback_file.is_file() else None
        ),
        tested_model=(COMPRESSED_MODEL if compressed else FROZEN_MODEL) if tested else None,
        detail_prefix=DETAIL_PREFIX if tested else None,
        training_walltime_s=timing["training_walltime_s"],
        steps_per_s=timing["steps_per_s"],
        run_walltime_s=wall_s,
        corrections=corrections,
    )
