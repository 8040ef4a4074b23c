"""``litcl analyze`` and ``litcl arrhenius``: transport analysis of trajectories from the shell.

Heavy modules (numpy, matplotlib, pymatgen) are imported inside the commands so that
``litcl --help`` stays fast.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

_FORMATS = ("lammps-dump", "xdatcar", "vasprun", "ase")


def _echo_warnings(caught: list[warnings.WarningMessage]) -> None:
    for item in caught:
        click.echo(f"warning: {item.message}", err=True)


@click.command("analyze")
@click.argument("traj", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mobile", default="Li", show_default=True, help="Element of the mobile ion.")
@click.option("--temperature", type=float, required=True, help="Temperature of the run (K).")
@click.option("--timestep-fs", type=float, required=True, help="MD time step (fs).")
@click.option("--type-map", default=None, help="Elements of LAMMPS types 1, 2, …: Li,Ti,Cl.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    default=None,
    help="Trajectory format (default: guessed from the file name).",
)
@click.option(
    "--charge", type=float, default=1.0, show_default=True, help="Charge number of the mobile ion."
)
@click.option(
    "--blocks",
    type=click.IntRange(min=2),
    default=5,
    show_default=True,
    help="Time blocks for the error bars.",
)
@click.option(
    "--fit-window-ps",
    type=float,
    nargs=2,
    default=None,
    help="Lag-time window of the MSD fits (default: 10–50 % of one block).",
)
@click.option(
    "--no-drift-correction", is_flag=True, help="Do not subtract the framework's mean displacement."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write MSD plots (PNG, SVG) into this folder.",
)
def analyze(
    traj: Path,
    mobile: str,
    temperature: float,
    timestep_fs: float,
    type_map: str | None,
    fmt: str | None,
    charge: float,
    blocks: int,
    fit_window_ps: tuple[float, float] | None,
    no_drift_correction: bool,
    as_json: bool,
    plot_dir: Path | None,
) -> None:
    """Self/collective diffusion, Haven ratio and Nernst–Einstein conductivity of TRAJ."""
    from rich.console import Console
    from rich.progress import open as progress_open

    from litcl_flows.analysis.trajectory import collect_mobile
    from litcl_flows.analysis.transport import analyze_trajectory
    from litcl_flows.io import TrajectoryFormatError, guess_format, iter_frames

    fmt = fmt or guess_format(traj)
    names = [t.strip() for t in type_map.split(",")] if type_map else None
    console = Console(stderr=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if fmt == "lammps-dump":
                with progress_open(
                    traj,
                    "rb",
                    description=f"reading {traj.name}",
                    console=console,
                    transient=True,
                ) as handle:
                    frames = iter_frames(traj, "lammps-dump", names, handle=handle)
                    trajectory = collect_mobile(
                        frames, mobile, not no_drift_correction, label=str(traj)
                    )
            else:
                frames = iter_frames(traj, fmt, names)  # type: ignore[arg-type]
                trajectory = collect_mobile(
                    frames, mobile, not no_drift_correction, label=str(traj)
                )
            result = analyze_trajectory(
                trajectory,
                temperature,
                timestep_fs,
                charge=charge,
                n_blocks=blocks,
                fit_window_ps=fit_window_ps or None,
            )
        except (TrajectoryFormatError, ValueError, OSError) as err:
            raise click.ClickException(str(err).splitlines()[0]) from err
    _echo_warnings(caught)
    if plot_dir is not None:
        from litcl_flows.analysis.plots import plot_msd

        for path in plot_msd([result], plot_dir / f"msd_{traj.stem}_{temperature:g}K"):
            click.echo(f"wrote {path}", err=True)
    if as_json:
        click.echo(json.dumps(result.to_json_dict()))
        return
    data = result.to_json_dict()
    click.echo(
        f"{traj}: {data['n_frames']} frames, {data['n_mobile']} {mobile}, "
        f"{temperature:g} K, fit window {result.fit_window_ps[0]:.4g}–"
        f"{result.fit_window_ps[1]:.4g} ps"
    )
    click.echo(f"  D_self   {result.D_self_cm2_s:.4e} ± {result.D_self_stderr_cm2_s:.1e} cm^2/s")
    click.echo(f"  D_total  {result.D_total_cm2_s:.4e} ± {result.D_total_stderr_cm2_s:.1e} cm^2/s")
    click.echo(f"  H_R      {result.haven_ratio:.3g} ± {result.haven_ratio_stderr:.2g}")
    click.echo(
        f"  sigma    {result.conductivity_mS_cm:.4g} ± "
        f"{result.conductivity_stderr_mS_cm:.2g} mS/cm (from D_total; "
        f"{result.conductivity_self_mS_cm:.4g} mS/cm from D_self)"
    )


@click.command("arrhenius")
@click.argument(
    "results", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--form",
    type=click.Choice(["sigma", "sigma_T"]),
    default="sigma",
    show_default=True,
    help="Fit ln σ or ln(σT) against 1/T.",
)
@click.option(
    "--extrapolate-K",
    "extrapolate_K",
    type=float,
    default=298.15,
    show_default=True,
    help="Temperature to extrapolate σ to.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot",
    "plot_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the Arrhenius plot (PNG and SVG beside it).",
)
def arrhenius(
    results: tuple[Path, ...],
    form: str,
    extrapolate_K: float,
    as_json: bool,
    plot_file: Path | None,
) -> None:
    """Fit the activation energy over RESULTS (JSON files from `litcl analyze --json`)."""
    import numpy as np

    from litcl_flows.analysis.arrhenius import fit_arrhenius

    rows = []
    for path in results:
        try:
            data = json.loads(path.read_text())
            rows.append(
                (
                    float(data["temperature_K"]),
                    float(data["conductivity_mS_cm"]),
                    float(data.get("conductivity_stderr_mS_cm", 0.0)),
                )
            )
        except (ValueError, KeyError, TypeError) as err:
            raise click.ClickException(f"{path}: not an analyze --json result ({err})") from err
    t, sigma, err = (np.array(col) for col in zip(*rows, strict=True))
    try:
        fit = fit_arrhenius(t, sigma, err, form=form, extrapolation_K=extrapolate_K)  # type: ignore[arg-type]
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    if plot_file is not None:
        from litcl_flows.analysis.plots import plot_arrhenius

        for path in plot_arrhenius(fit, plot_file.with_suffix("")):
            click.echo(f"wrote {path}", err=True)
    if as_json:
        click.echo(json.dumps(fit.to_json_dict()))
        return
    lo, hi = fit.conductivity_extrapolated_interval_mS_cm
    click.echo(
        f"Ea = {fit.activation_energy_eV:.4f} ± {fit.activation_energy_stderr_eV:.4f} eV "
        f"({fit.form} form, {len(t)} temperatures)"
    )
    click.echo(
        f"sigma({fit.extrapolation_K:g} K) = {fit.conductivity_extrapolated_mS_cm:.4g} "
        f"mS/cm, 95 % interval [{lo:.4g}, {hi:.4g}]"
    )
