"""``litcl demo``: the whole study on the embedded default, with progress, summary and report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from litcl_flows.cli.output import one_line_errors, print_json, print_table, stderr_console

#: The demo spec of a checkout (README command 1 installs the package editable from one).
DEMO_SPEC = Path(__file__).resolve().parents[2] / "workflows" / "li3ticl6_demo.yaml"


def _pm(value: float | None, error: float | None, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if error is None:
        return f"{value:.{digits}g}"
    return f"{value:.{digits}g} ± {error:.2g}"


def _run_note(run: dict[str, Any]) -> str:
    """Why a run failed, or that its fit window is not diffusive (MSD exponent off 1)."""
    if not run["completed"]:
        return f"failed: {run['failure_reason']}"
    if run.get("diffusive") is False:
        return (
            f"not diffusive: MSD exponent self {run['msd_exponent_self'] or float('nan'):.2f}, "
            f"total {run['msd_exponent_total'] or float('nan'):.2f}"
        )
    return ""


def _percent(fraction: float | None) -> str:
    return "" if fraction is None else f"{100 * fraction:.1f} %"


def _learning_table(
    learning: dict[str, Any], u: str
) -> tuple[str, list[dict[str, Any]], list[str]]:
    """The concurrent-learning iterations of one branch, titled with why the loop stopped."""
    rows = [
        {
            "iteration": it["iteration"],
            "training_frames": f"{it['n_training_frames']} ({it['n_labelled_frames']} labelled)",
            "force_rmse_eV_A": _pm(it["validation_force_rmse_eV_A"], None),
            "accurate": _percent(it["accurate_fraction"]),
            "candidate": _percent(it["candidate_fraction"]),
            "failed": _percent(it["failed_fraction"]),
            "labelled_next": it["n_picked"],
            "decision": it["decision"],
        }
        for it in learning["iterations"]
    ]
    title = f"Concurrent learning, U_eff {u}: {learning['stop_reason']}"
    return title, rows, list(rows[0]) if rows else []


def _stopped(run: dict[str, Any]) -> str:
    """Why the ML-MD run stopped, for runs whose length the run-length rule set."""
    length = run.get("stop_length_ps")
    at = "" if length is None else f" at {length:g} ps"
    return {"converged": f"converged{at}", "max_length": f"max length{at}"}.get(
        run.get("stop_reason") or "", ""
    )


def summary_tables(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]], list[str]]]:
    """The study document as (title, rows, columns) tables for the terminal."""
    stand_in = " (CHGNet stand-in for DFT+U)" if doc["is_stand_in"] else ""
    tables = []
    for branch in doc["branches"]:
        u = ", ".join(f"{el} {v:g} eV" for el, v in branch["hubbard_u_eV"].items()) or "none"
        runs = [
            {
                "T_K": f"{run['temperature_K']:g}",
                "D_self_cm2_s": _pm(run["D_self_cm2_s"], run["D_self_stderr_cm2_s"]),
                "D_total_cm2_s": _pm(run["D_total_cm2_s"], run["D_total_stderr_cm2_s"]),
                "haven_ratio": _pm(run["haven_ratio"], run["haven_ratio_stderr"]),
                "conductivity_mS_cm": _pm(
                    run["conductivity_mS_cm"], run["conductivity_stderr_mS_cm"]
                ),
                "conductivity_self_mS_cm": _pm(
                    run["conductivity_self_mS_cm"], run["conductivity_self_stderr_mS_cm"]
                ),
                "out_of_domain": _percent(run.get("out_of_domain_fraction")),
                "stopped": _stopped(run),
                "note": _run_note(run),
            }
            for run in branch["runs"]
        ]
        columns = [
            "T_K",
            "D_self_cm2_s",
            "D_total_cm2_s",
            "haven_ratio",
            "conductivity_mS_cm",
            "conductivity_self_mS_cm",
        ]
        columns += [
            key for key in ("out_of_domain", "stopped", "note") if any(row[key] for row in runs)
        ]
        fitted = (branch.get("arrhenius") or {}).get("conductivity")
        fit_note = f"; Arrhenius fit of the σ from D_{fitted}" if fitted else ""
        tables.append(
            (f"Li transport per temperature, U_eff {u}{stand_in}{fit_note}", runs, columns)
        )
        if branch.get("learning"):
            tables.append(_learning_table(branch["learning"], u))
    rows = []
    for row in doc["comparison"]:
        u = row["hubbard_u_eV"] or {}
        interval = row.get("ours_interval")
        ours = _pm(row["ours"], row.get("ours_stderr"))
        if interval:
            ours += f" [{interval[0]:.3g}, {interval[1]:.3g}]"
        rows.append(
            {
                "quantity": row["quantity"],
                "U_eV": ", ".join(f"{k}={v:g}" for k, v in u.items()),
                "ours": ours,
                "study": _pm(row["study"], None),
                "experiment": _pm(row["experiment"], None),
                "engine": row["engine"] + (" (stand-in)" if row["stand_in"] else ""),
            }
        )
    tables.append(("Ours vs the study vs experiment", rows, list(rows[0]) if rows else []))
    if doc["failures"]:
        failures = [
            {
                "step": f["step"],
                "T_K": f["temperature_K"],
                "reason": f["reason"],
                "uuid": f["uuid"],
            }
            for f in doc["failures"]
        ]
        tables.append(("What did not finish", failures, ["step", "T_K", "reason", "uuid"]))
    return tables


@click.command()
@click.option(
    "--spec",
    "spec_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Study spec (default: {DEMO_SPEC.relative_to(DEMO_SPEC.parents[1])}).",
)
@click.option(
    "--rerun",
    is_flag=True,
    help="Run the study anew, replacing an earlier run (workflow and outputs).",
)
@click.option(
    "--report-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to write the HTML report (default: ./report-STUDY).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the study document as JSON.")
@one_line_errors
def demo(spec_file: Path | None, rerun: bool, report_dir: Path | None, as_json: bool) -> None:
    """Run the demo study end to end here: submit, run every job, summarise, report.

    Embedded (no server, no VASP): CHGNet stands in for DFT+U. An interrupted demo resumes
    where it stopped when run again; a finished one is summarised again (--rerun: run anew).
    """
    from litcl_flows.cli.workflow import run_with_progress
    from litcl_flows.flows.spec import load_spec
    from litcl_flows.settings import load_settings
    from litcl_flows.store.config import is_initialised, write_config_files
    from litcl_flows.store.launchpad import workflow_summaries

    spec_file = spec_file or DEMO_SPEC
    if not spec_file.is_file():
        raise FileNotFoundError(f"{spec_file}: demo spec not found; pass --spec SPEC.yaml")
    spec = load_spec(spec_file)
    settings = load_settings()
    console = stderr_console()
    if not is_initialised(settings):
        write_config_files(settings)
        console.print(f"created the litcl home {settings.home} ({settings.mode} mode)")
    existing = [s for s in workflow_summaries(settings) if s.name == spec.name]
    if rerun or not existing:
        from litcl_flows.flows.preflight import check_runs_here
        from litcl_flows.flows.study import build_study_workflow

        check_runs_here(spec, settings)
        from litcl_flows.store.launchpad import add_workflow, find_study, remove_study

        workflow = build_study_workflow(spec)
        # A study name keys its stored documents: the new run replaces the old one whole.
        if earlier := find_study(settings, spec.name):
            remove_study(settings, earlier)
            console.print(f"replaced the earlier {earlier}")
        workflow_id = add_workflow(settings, workflow)
        console.print(
            f"submitted study {spec.name!r} as workflow {workflow_id} ({len(workflow.fws)} jobs)"
        )
    else:
        console.print(f"study {spec.name!r} is on the launchpad: running what is left")
    run_with_progress(settings)
    from litcl_flows.report import write_report
    from litcl_flows.store.config import connected_job_store
    from litcl_flows.store.report_data import load_report_data

    with connected_job_store(settings) as store:
        data = load_report_data(store, spec.name)
    written = write_report(data, report_dir or Path(f"report-{spec.name}"))
    doc = data.study.model_dump(mode="json")
    if as_json:
        print_json({"study": doc, "report": str(written.html)})
        return
    for title, rows, columns in summary_tables(doc):
        print_table(title, rows, columns)
    click.echo(f"report: {written.html}")
