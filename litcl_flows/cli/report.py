"""``litcl report STUDY``: the HTML report of a finished study, from the stored documents."""

from __future__ import annotations

from pathlib import Path

import click

from litcl_flows.cli.output import one_line_errors, print_json


@click.command()
@click.argument("study")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for index.html and the figures (default: ./report-STUDY).",
)
@click.option("--json", "as_json", is_flag=True, help='Print {"html": path, "figures": [...]}.')
@one_line_errors
def report(study: str, out_dir: Path | None, as_json: bool) -> None:
    """Write index.html and its PNG (and SVG) figures for STUDY; print the page's path.

    Figures: DeePMD parity and learning curve, RDF (AIMD vs ML-MD), MSD, hop traces,
    Arrhenius with the study's and experiment's values, NEB profiles; tables: ours vs the
    study vs experiment, transport per temperature, failures. Only reads the store.
    """
    from litcl_flows.report import write_report
    from litcl_flows.settings import load_settings
    from litcl_flows.store.config import connected_job_store
    from litcl_flows.store.report_data import load_report_data

    with connected_job_store(load_settings()) as store:
        data = load_report_data(store, study)
    written = write_report(data, out_dir or Path(f"report-{study}"))
    if as_json:
        print_json({"html": str(written.html), "figures": [str(p) for p in written.figures]})
    else:
        click.echo(str(written.html))
