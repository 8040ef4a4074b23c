"""FireWorks queue adapters and workers for Slurm and PBS Pro clusters.

FireWorks' stock ``PBS_template.txt`` is Torque-style (``nodes=N:ppn=M``); PBS Pro (Polaris,
Improv) needs ``-l select=N:ncpus=...:ngpus=...``, so litcl ships its own template
(``litcl_flows/data/pbspro_template.txt``). FireWorks drops every template line with an
unset key, so the whole ``select`` chunk is rendered here and filled in as one key.
"""

from __future__ import annotations

import re
import shlex
import sys
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

ClusterKind = Literal["slurm", "pbspro"]

#: litcl cluster kind → FireWorks ``CommonAdapter`` queue type.
QUEUE_TYPES: dict[str, str] = {"slurm": "SLURM", "pbspro": "PBS"}

#: Queue types FireWorks' ``CommonAdapter`` knows.
FIREWORKS_QUEUE_TYPES = (
    "PBS",
    "SGE",
    "SLURM",
    "Cobalt",
    "LoadLeveler",
    "LoadSharingFacility",
    "MOAB",
)

# HH:MM:SS (hours may exceed 24); Slurm also takes D-HH:MM:SS.
_WALLTIME = re.compile(r"^(?:(\d+)-)?(\d{1,3}):([0-5]\d):([0-5]\d)$")

# Template placeholders through which a GPU request reaches the scheduler.
_GPU_KEYS = ("gpus_per_node", "gpus_per_task", "gpus", "gres", "select")


class QueueConfigError(ValueError):
    """A queue adapter that cannot work; the message is one line."""


def walltime_seconds(walltime: str, cluster: str = "slurm") -> int:
    """Seconds in a walltime string; raise :class:`QueueConfigError` if malformed."""
    match = _WALLTIME.match(walltime.strip())
    if match is None or (match.group(1) and cluster != "slurm"):
        form = "HH:MM:SS or D-HH:MM:SS" if cluster == "slurm" else "HH:MM:SS"
        raise QueueConfigError(f"walltime {walltime!r} is not of the form {form}")
    days, hours, minutes, seconds = (int(group or 0) for group in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def pbspro_template_path() -> Path:
    """The PBS Pro queue script template shipped with litcl."""
    return Path(str(files("litcl_flows") / "data" / "pbspro_template.txt"))


def stock_template_path(q_type: str) -> Path:
    """FireWorks' own template for a queue type."""
    import fireworks.user_objects.queue_adapters as adapters

    return Path(adapters.__file__).parent / f"{q_type}_template.txt"


def template_keys(template_text: str) -> set[str]:
    """The ``$${key}`` placeholders of a FireWorks queue template."""
    return set(re.findall(r"\$\$\{([\w-]+)\}", template_text))


def check_qadapter(spec: dict[str, Any]) -> None:
    """Validate a qadapter dict (as in ``my_qadapter.yaml``) without submitting anything.

    Checks the queue type is one FireWorks supports, the walltime format, and that a GPU
    request has a line to go to in the template (a CPU-only template would silently drop
    it). Raises :class:`QueueConfigError` with one line.
    """
    q_type = spec.get("_fw_q_type")
    if q_type not in FIREWORKS_QUEUE_TYPES:
        known = ", ".join(FIREWORKS_QUEUE_TYPES)
        raise QueueConfigError(f"unknown queue type {q_type!r} (FireWorks knows: {known})")
    if spec.get("walltime") is not None:
        walltime_seconds(str(spec["walltime"]), "slurm" if q_type == "SLURM" else "pbspro")
    template_file = spec.get("_fw_template_file")
    template = Path(template_file) if template_file else stock_template_path(q_type)
    if not template.is_file():
        raise QueueConfigError(f"queue template not found: {template}")
    requested = [key for key in _GPU_KEYS if key != "select" and spec.get(key)]
    if "ngpus=" in str(spec.get("select", "")):
        requested.append("select")
    missing = [key for key in requested if key not in template_keys(template.read_text())]
    if missing:
        raise QueueConfigError(
            f"GPU request ({', '.join(missing)}) but the template {template} has no line for it"
        )


@dataclass(frozen=True)
class QueueResources:
    """What one queue job of a worker asks the scheduler for."""

    cluster: ClusterKind
    walltime: str = "24:00:00"
    nodes: int = 1
    cpus_per_node: int = 64
    gpus_per_node: int = 0
    queue: str | None = None
    account: str | None = None
    filesystems: str | None = None
    job_name: str = "litcl"
    template_file: str | None = None


def qadapter_spec(resources: QueueResources, rocket_launch: str, pre_rocket: str) -> dict[str, Any]:
    """A FireWorks ``CommonAdapter`` dict for ``my_qadapter.yaml``; validated."""
    spec: dict[str, Any] = {
        "_fw_name": "CommonAdapter",
        "_fw_q_type": QUEUE_TYPES[resources.cluster],
        "rocket_launch": rocket_launch,
        "pre_rocket": pre_rocket,
        "walltime": resources.walltime,
        "queue": resources.queue,
        "account": resources.account,
        "job_name": resources.job_name,
    }
    if resources.cluster == "slurm":
        spec.update(nodes=resources.nodes, ntasks_per_node=resources.cpus_per_node)
        if resources.gpus_per_node:
            spec["gpus_per_node"] = resources.gpus_per_node
    else:
        chunk = (
            f"{resources.nodes}:ncpus={resources.cpus_per_node}:mpiprocs={resources.cpus_per_node}"
        )
        if resources.gpus_per_node:
            chunk += f":ngpus={resources.gpus_per_node}"
        spec.update(select=chunk, place="scatter", filesystems=resources.filesystems)
        spec["_fw_template_file"] = str(pbspro_template_path())
    if resources.template_file:
        spec["_fw_template_file"] = resources.template_file
    spec = {key: value for key, value in spec.items() if value is not None}
    check_qadapter(spec)
    return spec


def pre_rocket_lines(home: Path, extra: str = "", venv: str | None = None) -> str:
    """Shell lines run before each worker: user lines, the venv, where the configs are.

    The launch commands of VASP, ``lmp`` and ``dp`` are read on the worker when a job runs,
    from the files in ``home`` (``atomate2.yaml``, ``litcl.yaml``) these exports locate, or
    from ``LITCL_DP_CMD`` / ``LITCL_LMP_CMD`` set in ``pre_rocket``.
    """
    venv = venv if venv is not None else (sys.prefix if sys.prefix != sys.base_prefix else "")
    lines = [extra.strip()] if extra.strip() else []
    if venv:
        lines.append(f"source {shlex.quote(str(Path(venv) / 'bin' / 'activate'))}")
    exports = {
        "LITCL_HOME": str(home),
        "FW_CONFIG_FILE": str(home / "FW_config.yaml"),
        "JOBFLOW_CONFIG_FILE": str(home / "jobflow.yaml"),
        "ATOMATE2_CONFIG_FILE": str(home / "atomate2.yaml"),
    }
    lines += [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
    return "\n".join(lines)
