"""custodian ``Job`` classes for the ``dp --tf`` commands: train, freeze, compress, test.

custodian ships nothing for DeePMD-kit (no ``custodian.deepmd`` module). Each ``run``
returns the ``Popen`` so custodian can poll it and run monitor handlers (NaN loss, walltime)
while ``dp train`` runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

from custodian.custodian import Job

from litcl_flows.engines import split_command

FROZEN_MODEL = "frozen_model.pb"
COMPRESSED_MODEL = "compressed_model.pb"
#: Written by DpNanLossHandler: the checkpoint prefix the next ``dp train`` restarts from.
RESTART_FILE = "restart.json"
#: Written by DpCompressFailureHandler: why the uncompressed model is used instead.
COMPRESS_FALLBACK_FILE = "compress_fallback.json"
VALID_SYSTEMS_FILE = "valid_systems.txt"


_CKPT = re.compile(r"^model\.ckpt-(\d+)\.meta$")


def checkpoint_steps(directory: str | Path) -> list[int]:
    """Steps of the complete numbered checkpoints (``model.ckpt-N``: meta, index, data), sorted.

    TensorFlow writes the ``.meta`` graph last, after updating the ``checkpoint`` pointer, so
    a run killed while saving leaves a pointer to an unusable checkpoint.
    """
    root = Path(directory)
    steps = []
    for meta in root.glob("model.ckpt-*.meta"):
        match = _CKPT.match(meta.name)
        prefix = meta.name[: -len(".meta")]
        if match and (root / f"{prefix}.index").is_file() and any(root.glob(f"{prefix}.data-*")):
            steps.append(int(match.group(1)))
    return sorted(steps)


def latest_checkpoint(directory: str | Path) -> str | None:
    """Prefix of the latest complete checkpoint (``model.ckpt-N``) in ``directory``, or None."""
    steps = checkpoint_steps(directory)
    return f"model.ckpt-{steps[-1]}" if steps else None


def thread_env(threads: int | None) -> dict[str, str]:
    """The process environment with OpenMP/TensorFlow/DeePMD thread counts set to ``threads``.

    TensorFlow otherwise starts one thread pool per core, which oversubscribes shared nodes.
    """
    env = dict(os.environ)
    if threads:
        for key in (
            "OMP_NUM_THREADS",
            "TF_INTRA_OP_PARALLELISM_THREADS",
            "TF_INTER_OP_PARALLELISM_THREADS",
            "DP_INTRA_OP_PARALLELISM_THREADS",
            "DP_INTER_OP_PARALLELISM_THREADS",
        ):
            env[key] = str(threads)
    # Silence TensorFlow's info lines so the logs show DeePMD-kit's messages.
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


class DpJob(Job):
    """One ``dp --tf <subcommand> ...`` run; ``dp_cmd`` may carry a launcher (``srun -n 1 dp``).

    Parameters
    ----------
    dp_cmd
        The ``dp`` executable, optionally with a launch prefix; split with ``shlex``.
    args
        Subcommand and its arguments, e.g. ``["freeze", "-o", "frozen_model.pb"]``.
    log_file
        File receiving stdout and stderr (appended, so restarts keep the history).
    threads
        OpenMP/TensorFlow threads of the process (None: leave the environment as it is).
    """

    def __init__(
        self,
        dp_cmd: str = "dp",
        args: list[str] | None = None,
        log_file: str = "dp.log",
        threads: int | None = None,
    ) -> None:
        self.dp_cmd = dp_cmd
        self.args = list(args or [])
        self.log_file = log_file
        self.threads = threads

    @property
    def name(self) -> str:
        return f"dp {self.args[0] if self.args else ''}".strip()

    def setup(self, directory: str = "./") -> None:
        """Nothing to prepare: ``input.json`` and the data are written before custodian runs."""

    def command(self, directory: str) -> list[str]:
        """The argument vector of this run."""
        return [*split_command(self.dp_cmd), "--tf", *self.args]

    def run(self, directory: str = "./") -> subprocess.Popen | None:
        with open(Path(directory) / self.log_file, "a") as log:
            return subprocess.Popen(
                self.command(directory),
                cwd=directory,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=thread_env(self.threads),
            )

    def postprocess(self, directory: str = "./") -> None:
        """Outputs are parsed by the caller (see :mod:`.run`)."""


class DpTrainJob(DpJob):
    """``dp --tf train input.json``, restarting from a checkpoint when the folder holds one.

    A ``restart.json`` (from :class:`~.handlers.DpNanLossHandler`) names the checkpoint to use
    and is consumed; otherwise the latest complete checkpoint of a killed or walltime-stopped
    run (or of files copied from the previous job) is resumed with ``--restart``.
    """

    def __init__(
        self,
        dp_cmd: str = "dp",
        input_file: str = "input.json",
        log_file: str = "train.log",
        threads: int | None = None,
    ) -> None:
        super().__init__(dp_cmd, ["train", input_file], log_file, threads)
        self.input_file = input_file

    def command(self, directory: str) -> list[str]:
        restart_file = Path(directory) / RESTART_FILE
        cmd = [*split_command(self.dp_cmd), "--tf", "train", self.input_file]
        if restart_file.is_file():
            checkpoint = json.loads(restart_file.read_text())["checkpoint"]
            restart_file.unlink()
            return [*cmd, "--restart", checkpoint] if checkpoint else cmd
        latest = latest_checkpoint(directory)
        return [*cmd, "--restart", latest] if latest else cmd


class DpFreezeJob(DpJob):
    """``dp --tf freeze -o frozen_model.pb`` from the latest checkpoint."""

    def __init__(
        self,
        dp_cmd: str = "dp",
        output: str = FROZEN_MODEL,
        log_file: str = "freeze.log",
        threads: int | None = None,
    ) -> None:
        super().__init__(dp_cmd, ["freeze", "-o", output], log_file, threads)
        self.output = output


class DpCompressJob(DpJob):
    """``dp --tf compress``; does nothing once a fallback to the uncompressed model is recorded."""

    def __init__(
        self,
        dp_cmd: str = "dp",
        input_model: str = FROZEN_MODEL,
        output: str = COMPRESSED_MODEL,
        log_file: str = "compress.log",
        threads: int | None = None,
    ) -> None:
        super().__init__(dp_cmd, ["compress", "-i", input_model, "-o", output], log_file, threads)
        self.input_model = input_model
        self.output = output

    def run(self, directory: str = "./") -> subprocess.Popen | None:
        if (Path(directory) / COMPRESS_FALLBACK_FILE).is_file():
            return None
        return super().run(directory)


class DpTestJob(DpJob):
    """``dp --tf test -m MODEL -f valid_systems.txt -d dp_test`` with the deployed model.

    The model is the compressed one when it exists, else the frozen one (decided at run time,
    after a possible compression fallback).
    """

    def __init__(
        self,
        dp_cmd: str = "dp",
        systems_file: str = VALID_SYSTEMS_FILE,
        detail_prefix: str = "dp_test",
        log_file: str = "test.log",
        threads: int | None = None,
    ) -> None:
        super().__init__(dp_cmd, ["test"], log_file, threads)
        self.systems_file = systems_file
        self.detail_prefix = detail_prefix

    def command(self, directory: str) -> list[str]:
        compressed = Path(directory) / COMPRESSED_MODEL
        model = COMPRESSED_MODEL if compressed.is_file() else FROZEN_MODEL
        return [
            *split_command(self.dp_cmd),
            "--tf",
            "test",
            "-m",
            model,
            "-f",
            self.systems_file,
            "-d",
            self.detail_prefix,
        ]
