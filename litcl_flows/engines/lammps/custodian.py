"""custodian Job, handlers and validator for ``lmp`` with ``pair_style deepmd``.

custodian has no LAMMPS module, and atomate2's ``run_lammps`` builds a launch command of its
own; here the launch command is a plain string split with shlex:
``"lmp"``, ``"srun -n 64 lmp"``, ``"mpiexec -n 4 lmp"``, ``"lmp -k on g 1 -sf kk"``.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from custodian.custodian import Custodian, CustodianError, ErrorHandler, Job, Validator

from litcl_flows.engines import split_command
from litcl_flows.engines.lammps.dumps import truncate_dump, truncate_table
from litcl_flows.engines.lammps.inputs import (
    ALL_DUMP,
    HOST_COM_FILE,
    INPUT_FILE,
    MOBILE_DUMP,
    LammpsMDInput,
    latest_restart,
)
from litcl_flows.engines.lammps.log import parse_log

#: Screen output of the current attempt (the log file collects all attempts).
STDOUT_FILE = "lammps.out"
STDERR_FILE = "lammps.err"

#: Messages of a run that went unstable; the fix is a smaller time step.
UNSTABLE_MESSAGES = ("Lost atoms", "Out of range atoms", "Non-numeric atom coords")
#: Messages no rerun can fix: the model file cannot be read, or its type map lacks an element.
FATAL_MESSAGES = ("Failed to open file", "not found in the model", "Cannot open file")


class LammpsRunError(RuntimeError):
    """A LAMMPS run that custodian could not bring to its final step."""


def _screen(directory: str | Path) -> Path:
    return Path(directory) / STDOUT_FILE


class LammpsJob(Job):
    """Run ``<lmp_cmd> -in in.lammps`` with ``subprocess.Popen``, screen to ``lammps.out``.

    Parameters
    ----------
    lmp_cmd
        Launch command, split with shlex; ``-in in.lammps -log none`` is appended (the input
        opens ``log.lammps`` itself, appending).
    env
        Variables added to the environment of ``lmp`` (OMP_NUM_THREADS, TF threads, ...).
    """

    def __init__(self, lmp_cmd: str = "lmp", env: dict[str, str] | None = None) -> None:
        self.lmp_cmd = lmp_cmd
        self.env = dict(env or {})

    def setup(self, directory: str = "./") -> None:
        """Nothing to prepare: the Maker wrote the inputs."""

    def run(self, directory: str = "./") -> subprocess.Popen:
        """Start ``lmp``; a Popen, so custodian can poll it and run monitors."""
        cmd = [*split_command(self.lmp_cmd), "-in", INPUT_FILE, "-log", "none"]
        env = {**os.environ, **self.env}
        with open(_screen(directory), "w") as out, open(Path(directory) / STDERR_FILE, "w") as err:
            return subprocess.Popen(cmd, cwd=directory, stdout=out, stderr=err, env=env)

    def postprocess(self, directory: str = "./") -> None:
        """Nothing to do: the Maker reads the outputs."""


class LammpsUnstableHandler(ErrorHandler):
    """Lost atoms or non-finite thermo → restart from the last restart file at half the step.

    Without a restart file yet, the run starts again from the data file. Frames the failed
    run dumped after the restart step are cut, since the restarted run writes them again.
    """

    is_monitor = False
    max_num_corrections = 2
    raise_on_max = True

    def check(self, directory: str = "./") -> bool:
        """Whether the last attempt lost atoms or printed a non-finite thermo value."""
        screen = _screen(directory)
        if not screen.exists():
            return False
        log = parse_log(screen)
        return log.has_nonfinite or any(m in e for e in log.errors for m in UNSTABLE_MESSAGES)

    def correct(self, directory: str = "./") -> dict:
        """Halve the time step and restart from the newest restart file."""
        params = LammpsMDInput.load(directory)
        restart = latest_restart(directory)
        old_fs = params.time_step_fs
        params.time_step_fs = old_fs / 2
        if restart is None:
            params.restart_file = None
            step = 0
        else:
            params.restart_file, step = restart[0].name, restart[1]
            for name in (MOBILE_DUMP, ALL_DUMP):
                if (Path(directory) / name).exists():
                    truncate_dump(Path(directory) / name, step)
            if (Path(directory) / HOST_COM_FILE).exists():
                truncate_table(Path(directory) / HOST_COM_FILE, step)
        (Path(directory) / INPUT_FILE).write_text(params.render())
        params.save(directory)
        return {
            "errors": ["unstable: lost atoms or non-finite energy"],
            "actions": [
                {
                    "file": INPUT_FILE,
                    "action": {
                        "_set": {
                            "time_step_fs": params.time_step_fs,
                            "restart_file": params.restart_file,
                            "restart_step": step,
                        }
                    },
                }
            ],
        }


class LammpsFatalErrorHandler(ErrorHandler):
    """Model file missing or unreadable, or an element absent from the model's type map."""

    is_monitor = False

    def check(self, directory: str = "./") -> bool:
        """Whether the screen output has an error no rerun can fix."""
        screen = _screen(directory)
        return screen.exists() and any(
            m in e for e in parse_log(screen).errors for m in FATAL_MESSAGES
        )

    def correct(self, directory: str = "./") -> dict:
        """Nothing to fix: return the error line and no actions (custodian stops)."""
        log = parse_log(_screen(directory))
        errors = [e for e in log.errors if any(m in e for m in FATAL_MESSAGES)]
        return {"errors": errors[:1], "actions": None}


class LammpsFinishedValidator(Validator):
    """Invalid unless the MD reached its final step, or stopped at its walltime with a restart."""

    def check(self, directory: str = "./") -> bool:
        """True (invalid) when the run neither finished nor saved its state at the walltime."""
        params = LammpsMDInput.load(directory)
        log = parse_log(_screen(directory))
        restart = latest_restart(directory)
        if log.errors or restart is None:
            return True
        if restart[1] >= params.n_steps:
            return False
        return not log.walltime_reached


def run_lammps(
    directory: Path | str,
    lmp_cmd: str = "lmp",
    env: dict[str, str] | None = None,
    max_restarts: int = 2,
    polling_time_s: int = 5,
) -> list[dict]:
    """Run ``lmp`` in ``directory`` under custodian; return the corrections made.

    Raises
    ------
    LammpsRunError
        One line naming the cause, when custodian gives up.
    """
    unstable = LammpsUnstableHandler()
    unstable.max_num_corrections = max_restarts
    custodian = Custodian(
        handlers=[LammpsFatalErrorHandler(), unstable],
        jobs=[LammpsJob(lmp_cmd, env)],
        validators=[LammpsFinishedValidator()],
        max_errors=max_restarts + 1,
        polling_time_step=polling_time_s,
        directory=str(directory),
    )
    try:
        run_log = custodian.run()
    except CustodianError as exc:
        errors = parse_log(_screen(directory)).errors if _screen(directory).exists() else []
        cause = errors[0] if errors else str(exc).splitlines()[0]
        raise LammpsRunError(f"LAMMPS failed in {directory}: {cause}") from None
    return [
        {"errors": c["errors"], "actions": c["actions"]}
        for entry in run_log
        for c in entry.get("corrections", [])
    ]
