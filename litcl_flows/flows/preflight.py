"""What a study needs on the machine that runs its jobs, checked before it is queued.

In embedded mode the jobs run here, in ``litcl run``: a missing engine would otherwise end
the first job that needs it, after the jobs before it have run. In MongoDB mode workers run
elsewhere, with their own installation and settings, so nothing here is checked.
"""

from __future__ import annotations

import shutil
from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litcl_flows.flows.spec import StudySpec
    from litcl_flows.settings import LitclSettings


def _missing_command(label: str, command: str) -> str | None:
    """The launcher and the program of ``command``, found as the job will find them."""
    from litcl_flows.engines import split_command

    words = [word for word in split_command(command) if not word.startswith("-")]
    absent = [word for word in dict.fromkeys(words[:1] + words[-1:]) if not shutil.which(word)]
    if not absent:
        return None
    return f"{label} {command!r} ({', '.join(absent)} not on PATH)"


def check_runs_here(spec: StudySpec, settings: LitclSettings) -> None:
    """Raise ``ValueError`` (one line, everything missing) when embedded jobs cannot run."""
    if settings.mode != "embedded":
        return
    from litcl_flows.structures.library import load_structure

    engine = spec.engine
    composition = load_structure(spec.material.structure).composition
    engine.check_runs_here(element.symbol for element in composition.elements)
    missing = []
    if find_spec(engine.package) is None:
        missing.append(f"reference engine '{engine.name}' needs the '{engine.package}' package")
    if spec.runs("train"):
        missing.append(_missing_command("dp_cmd", settings.dp_cmd))
    if spec.runs("mlmd"):
        missing.append(_missing_command("lmp_cmd", settings.lmp_cmd))
    problems = [problem for problem in missing if problem]
    if problems:
        raise ValueError(
            f"this study's jobs run here (embedded mode) and need: {'; '.join(problems)}; "
            "install them with pip install 'litcl_flows[engines]', or set LITCL_DP_CMD / "
            "LITCL_LMP_CMD"
        )
