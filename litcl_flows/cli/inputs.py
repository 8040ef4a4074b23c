"""``litcl inputs SPEC -o DIR``: a dry run writing the input files of every step, running nothing.

The workflow libraries are imported inside the command so that ``litcl --help`` stays fast.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import click

from litcl_flows.cli.output import one_line_errors, print_json


@click.command("inputs")
@click.argument("spec_file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    "out_dir",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write into (created; must be empty unless --force).",
)
@click.option(
    "--force", is_flag=True, help="Write into a non-empty folder, replacing the step folders."
)
@click.option(
    "--linear-images",
    is_flag=True,
    help="NEB images by linear interpolation, not IDPP (seconds instead of a minute).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the written files as JSON.")
@one_line_errors
def inputs(spec_file: str, out_dir: str, force: bool, linear_images: bool, as_json: bool) -> None:
    """Write the inputs the study SPEC_FILE would hand to VASP or CHGNet, DeePMD-kit and LAMMPS.

    One folder per step (and per U set, temperature, NEB hop); DIR/README.txt says what each
    holds and where the submitted flow differs (it starts later steps from relaxed cells).
    """
    from litcl_flows.flows.inputs import README_FILE, write_study_inputs
    from litcl_flows.flows.spec import load_spec

    spec = load_spec(spec_file)
    out = Path(out_dir)
    if out.is_dir() and any(out.iterdir()) and not force:
        raise click.ClickException(f"{out} is not empty; use --force to write into it")
    written = write_study_inputs(spec, out, linear_images=linear_images)
    if as_json:
        print_json([str(path) for path in written])
        return
    click.echo(f"wrote {len(written)} files for study {spec.name!r} under {out}:")
    # One line per step folder: the paper-scale study writes over a hundred files.
    per_folder = Counter(path.relative_to(out).parts[0] for path in written if path.parent != out)
    for folder, count in per_folder.items():
        click.echo(f"  {folder}/  ({count} file{'s' * (count > 1)})")
    click.echo(
        f"{out / README_FILE} says what each folder holds and what the run does differently."
    )
