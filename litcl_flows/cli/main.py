"""The ``litcl`` command group; subcommands load on demand so that startup stays fast."""

from __future__ import annotations

import importlib
import os
import warnings

import click

#: command name → "module:attribute". Modules import heavy libraries only inside commands.
COMMANDS: dict[str, str] = {
    "init": "litcl_flows.cli.workflow:init",
    "submit": "litcl_flows.cli.workflow:submit",
    "run": "litcl_flows.cli.workflow:run",
    "status": "litcl_flows.cli.workflow:status",
    "query": "litcl_flows.cli.workflow:query",
    "lpad": "litcl_flows.cli.workflow:lpad",
    "rlaunch": "litcl_flows.cli.workflow:rlaunch",
    "qlaunch": "litcl_flows.cli.workflow:qlaunch",
    "analyze": "litcl_flows.cli.analyze:analyze",
    "arrhenius": "litcl_flows.cli.analyze:arrhenius",
    "structures": "litcl_flows.cli.structures:structures",
    "inputs": "litcl_flows.cli.inputs:inputs",
    "report": "litcl_flows.cli.report:report",
    "demo": "litcl_flows.cli.demo:demo",
    "doctor": "litcl_flows.cli.doctor:doctor",
}


_library_format = warnings.formatwarning


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    line: str | None = None,
) -> str:
    """litcl's own warnings as one ``Warning: ...`` line; other libraries' as they format them."""
    if category.__module__.startswith("litcl_flows"):
        return f"Warning: {message}\n"
    return _library_format(message, category, filename, lineno, line)


class LazyGroup(click.Group):
    """A group whose commands are imported only when listed or invoked."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="LITCL_HOME",
    help="litcl home folder (default: $LITCL_HOME or ~/.litcl).",
)
@click.version_option(package_name="litcl_flows")
def cli(home: str | None) -> None:
    """Li-ion transport studies: DFT+U, AIMD, DeePMD, LAMMPS, analysis and NEB as workflows.

    Embedded by default (launchpad and store in one folder, no server); MongoDB for
    clusters. Start with `litcl init`, then `litcl submit SPEC.yaml` and `litcl run`.
    """
    warnings.formatwarning = _one_line_warning
    if home:
        # Settings read LITCL_HOME to find litcl.yaml: set it once for the whole process.
        os.environ["LITCL_HOME"] = os.path.abspath(home)
