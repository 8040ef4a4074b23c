"""custodian handlers and the validator for ``dp train`` runs, one failure each."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path

from custodian.custodian import ErrorHandler, Validator

from litcl_flows.engines.deepmd.jobs import (
    COMPRESS_FALLBACK_FILE,
    COMPRESSED_MODEL,
    FROZEN_MODEL,
    RESTART_FILE,
    checkpoint_steps,
)
from litcl_flows.engines.deepmd.outputs import (
    LCURVE_FILE,
    first_nonfinite_step,
    lcurve_last_step,
    truncate_lcurve,
)


class DpNanLossHandler(ErrorHandler):
    """NaN/inf in ``lcurve.out``: restart from the last checkpoint before it with a lower lr.

    The rows after that checkpoint are cut from ``lcurve.out`` (``dp train --restart``
    appends), ``start_lr`` in ``input.json`` is multiplied by ``lr_factor``, and the checkpoint
    is named in ``restart.json`` for :class:`~.jobs.DpTrainJob`. Without an earlier checkpoint
    training starts again from scratch at the lower rate.
    """

    is_monitor = True
    max_num_corrections = 3
    raise_on_max = True

    def __init__(
        self, input_file: str = "input.json", lcurve_file: str = LCURVE_FILE, lr_factor: float = 0.5
    ) -> None:
        self.input_file = input_file
        self.lcurve_file = lcurve_file
        self.lr_factor = lr_factor

    def check(self, directory: str = "./") -> bool:
        path = Path(directory) / self.lcurve_file
        return path.is_file() and first_nonfinite_step(path) is not None

    def correct(self, directory: str = "./") -> dict:
        root = Path(directory)
        bad_step = first_nonfinite_step(root / self.lcurve_file)
        earlier = [s for s in checkpoint_steps(root) if s < bad_step]
        restart_step = earlier[-1] if earlier else None
        truncate_lcurve(root / self.lcurve_file, restart_step if restart_step is not None else 0)
        settings = json.loads((root / self.input_file).read_text())
        old_lr = settings["learning_rate"]["start_lr"]
        settings["learning_rate"]["start_lr"] = old_lr * self.lr_factor
        (root / self.input_file).write_text(json.dumps(settings, indent=2))
        checkpoint = f"model.ckpt-{restart_step}" if restart_step is not None else ""
        if not checkpoint:
            # No usable checkpoint: make sure DpTrainJob does not resume the NaN one.
            (root / "checkpoint").unlink(missing_ok=True)
        (root / RESTART_FILE).write_text(json.dumps({"checkpoint": checkpoint}))
        return {
            "errors": [f"non-finite loss in {self.lcurve_file} at step {bad_step}"],
            "actions": [
                {
                    "file": self.input_file,
                    "action": {"_set": {"learning_rate->start_lr": old_lr * self.lr_factor}},
                },
                {"dict": RESTART_FILE, "action": {"_set": {"checkpoint": checkpoint or None}}},
            ],
        }


class DpWalltimeHandler(ErrorHandler):
    """Stop ``dp train`` before the batch job's wall time ends; the next job restarts it.

    When less than ``buffer_s`` is left, custodian kills the run and stops without error
    (``raises_runtime_error = False``); the checkpoints (every ``save_freq`` steps) stay, and
    the training Maker queues a new job that runs ``dp train --restart`` from them.

    Parameters
    ----------
    walltime_s
        Wall time of the batch job; None reads ``PBS_WALLTIME`` (s) or ``SBATCH_TIMELIMIT``.
    buffer_s
        Time kept free for freezing, testing and storing the results.
    """

    is_monitor = True
    raises_runtime_error = False

    def __init__(self, walltime_s: float | None = None, buffer_s: float = 300.0) -> None:
        self.walltime_s = walltime_s
        if walltime_s is None and "PBS_WALLTIME" in os.environ:
            self.walltime_s = float(os.environ["PBS_WALLTIME"])
        elif walltime_s is None and "SBATCH_TIMELIMIT" in os.environ:
            # custodian's own Slurm time parser (used by its VASP WalltimeHandler).
            from custodian.vasp.handlers import _parse_slurm_time

            self.walltime_s = _parse_slurm_time(os.environ["SBATCH_TIMELIMIT"])
        self.buffer_s = buffer_s
        self.start_time = time.time()

    def check(self, directory: str = "./") -> bool:
        if not self.walltime_s:
            return False
        return time.time() - self.start_time > self.walltime_s - self.buffer_s

    def correct(self, directory: str = "./") -> dict:
        step = lcurve_last_step(Path(directory) / LCURVE_FILE)
        return {
            "errors": [f"wall time nearly over at step {step}; restart in the next job"],
            "actions": None,
        }


#: Lines that ``dp`` prints when the training data, not the model, is wrong (DeePMD-kit 3.2).
DATA_ERROR_PATTERNS = (
    r"Elements .* are not present in the provided `type_map`",
    r"FileNotFoundError: .* not found",
    r"No such file or directory: .*set\.\d+",
    r"No such file or directory: .*type\.raw",
)


class DpDataErrorHandler(ErrorHandler):
    """A ``dp`` error about the data (missing system or set, type map mismatch): unrecoverable.

    ``correct`` reports the offending line unchanged and takes no action, so custodian stops
    with ``NonRecoverableError`` instead of retrying a run that cannot succeed.
    """

    is_monitor = False

    def __init__(self, log_files: tuple[str, ...] = ("train.log", "test.log")) -> None:
        self.log_files = tuple(log_files)

    def _error_line(self, directory: str) -> str | None:
        for name in self.log_files:
            path = Path(directory) / name
            if not path.is_file():
                continue
            for line in path.read_text(errors="replace").splitlines():
                if any(re.search(p, line) for p in DATA_ERROR_PATTERNS):
                    return f"{name}: {line.strip()}"
        return None

    def check(self, directory: str = "./") -> bool:
        return self._error_line(directory) is not None

    def correct(self, directory: str = "./") -> dict:
        return {"errors": [self._error_line(directory)], "actions": None}


class DpCompressFailureHandler(ErrorHandler):
    """``dp compress`` failed: record the reason and go on with the uncompressed model."""

    is_monitor = False
    max_num_corrections = 1

    def __init__(self, log_file: str = "compress.log", output: str = COMPRESSED_MODEL) -> None:
        self.log_file = log_file
        self.output = output

    def check(self, directory: str = "./") -> bool:
        root = Path(directory)
        return (
            (root / self.log_file).is_file()
            and not (root / self.output).is_file()
            and not (root / COMPRESS_FALLBACK_FILE).is_file()
        )

    def correct(self, directory: str = "./") -> dict:
        lines = (Path(directory) / self.log_file).read_text(errors="replace").splitlines()
        errors = [ln.strip() for ln in lines if "Error" in ln or "error" in ln]
        reason = errors[-1] if errors else f"dp compress wrote no {self.output}"
        (Path(directory) / COMPRESS_FALLBACK_FILE).write_text(json.dumps({"reason": reason}))
        return {
            "errors": [f"dp compress failed: {reason}"],
            "actions": [{"dict": COMPRESS_FALLBACK_FILE, "action": {"_set": {"reason": reason}}}],
        }


class DpTrainingValidator(Validator):
    """Invalid (True) unless ``lcurve.out`` reached ``numb_steps`` and, once ``dp freeze`` ran,
    the frozen model exists.

    custodian validates after every job of the sequence; the frozen model can only be asked
    for after the freeze job (its log exists).
    """

    def __init__(
        self,
        numb_steps: int,
        lcurve_file: str = LCURVE_FILE,
        frozen_model: str = FROZEN_MODEL,
        freeze_log: str = "freeze.log",
    ) -> None:
        self.numb_steps = numb_steps
        self.lcurve_file = lcurve_file
        self.frozen_model = frozen_model
        self.freeze_log = freeze_log

    def check(self, directory: str = "./") -> bool:
        root = Path(directory)
        if lcurve_last_step(root / self.lcurve_file) < self.numb_steps:
            return True
        return (root / self.freeze_log).is_file() and not (root / self.frozen_model).is_file()
