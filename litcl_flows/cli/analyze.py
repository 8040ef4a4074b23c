"""``litcl analyze`` and ``litcl arrhenius``: transport analysis of trajectories from the shell.

Heavy modules (numpy, matplotlib, pymatgen) are imported inside the commands so that
``litcl --help`` stays fast.
"""

from __future__ import annotations

import gc
import json
import math
import sys
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    import numpy as np

    from litcl_flows.analysis.hops import HopResult
    from litcl_flows.analysis.rdf import RDF, RDFAccumulator
    from litcl_flows.analysis.transport import TransportResult
    from litcl_flows.io import Frame

_FORMATS = ("lammps-dump", "xdatcar", "vasprun", "ase")


def _echo_warnings(caught: list[warnings.WarningMessage]) -> None:
    for item in caught:
        click.echo(f"warning: {item.message}", err=True)


def _positive(ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    """A finite number > 0 (temperatures, time steps): click's FloatRange lets NaN through."""
    if value is not None and not (math.isfinite(value) and value > 0):
        raise click.BadParameter(f"{value:g} is not a finite number above 0")
    return value


def _nonzero(ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A finite, non-zero charge number (σ ∝ z²: z = 0 carries no current)."""
    if not (math.isfinite(value) and value != 0):
        raise click.BadParameter(f"{value:g}: the mobile ion's charge number must be non-zero")
    return value


def _type_map(ctx: click.Context, param: click.Parameter, value: str | None) -> list[str] | None:
    """Element names of LAMMPS types 1, 2, …; each must be an element symbol, once."""
    if value is None:
        return None
    from ase.data import atomic_numbers  # not pymatgen.core: ~0.13 s less start-up

    names = [name.strip() for name in value.split(",")]
    unknown = [name for name in names if atomic_numbers.get(name, 0) == 0]
    if unknown:
        raise click.BadParameter(f"{', '.join(unknown)}: not element symbols")
    if len(set(names)) != len(names):
        raise click.BadParameter(f"{value}: an element is named twice")
    return names


def _parse_hkl(text: str) -> tuple[int, int, int]:
    """Miller indices from ``001``, ``0,0,3`` or ``1 -1 0``."""
    parts = text.replace(",", " ").split()
    if len(parts) == 1 and parts[0].isdigit() and len(parts[0]) == 3:
        parts = list(parts[0])
    try:
        hkl = tuple(int(p) for p in parts)
    except ValueError:
        hkl = ()
    if len(hkl) != 3:
        raise click.BadParameter(f"{text!r}: give 'auto' or three Miller indices (001, 0,0,3)")
    return hkl  # type: ignore[return-value]


class _FrameTap:
    """Passes frames through to `collect_mobile` while feeding the RDF and keeping the first
    frame (species, host positions), so the trajectory is read once."""

    def __init__(self, rdf_pairs: str | None, r_max_A: float | None, bins: int, stride: int):
        self.rdf_pairs = rdf_pairs
        self.r_max_A = r_max_A
        self.bins = bins
        self.stride = stride
        self.rdf: RDFAccumulator | None = None
        self.first: Frame | None = None

    def __call__(self, frames: Iterable[Frame]) -> Iterator[Frame]:
        from litcl_flows.analysis.rdf import RDFAccumulator, parse_pairs

        for index, frame in enumerate(frames):
            if index == 0:
                self.first = frame
                if self.rdf_pairs is not None:
                    pairs = parse_pairs(self.rdf_pairs, frame.symbols.tolist())
                    self.rdf = RDFAccumulator(pairs, self.r_max_A, self.bins)
            if self.rdf is not None and index % self.stride == 0:
                self.rdf.add(frame)
            yield frame


@click.command("analyze")
@click.argument(
    "traj", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--mobile", default="Li", show_default=True, help="Element of the mobile ion.")
@click.option(
    "--temperature",
    type=float,
    required=True,
    callback=_positive,
    help="Temperature of the run (K).",
)
@click.option(
    "--time-step-fs", type=float, required=True, callback=_positive, help="MD time step (fs)."
)
@click.option(
    "--type-map",
    default=None,
    callback=_type_map,
    help="Elements of LAMMPS types 1, 2, …: Li,Ti,Cl.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(_FORMATS),
    default=None,
    help="Trajectory format (default: guessed from the file name).",
)
@click.option(
    "--charge",
    type=float,
    default=1.0,
    show_default=True,
    callback=_nonzero,
    help="Charge number of the mobile ion.",
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
    "--no-drift-correction",
    is_flag=True,
    help="Measure displacements in the simulation box, not relative to the host's centre of mass.",
)
@click.option(
    "--host-com",
    "host_com",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Host centre-of-mass file(s) of a run whose dump holds only the mobile ions "
    "(host_com.txt beside each chunk's dump; repeat per chunk, in order).",
)
@click.option(
    "--rdf",
    "rdf_pairs",
    default=None,
    help="Also compute g(r) of these pairs: Li-Li,Li-Cl or 'all'.",
)
@click.option(
    "--rdf-r-max",
    type=float,
    default=None,
    help="Outer RDF radius in Å (default: half the smallest cell width).",
)
@click.option("--rdf-bins", type=click.IntRange(min=1), default=200, show_default=True)
@click.option(
    "--rdf-stride",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Use every k-th frame for the RDF.",
)
@click.option(
    "--stacking",
    default=None,
    help="Count hops between layers: the Miller planes of the host-cation (Ti) layers in the "
    "trajectory's cell (001, 0,0,3), or 'auto' (detected from the host cations).",
)
@click.option(
    "--host",
    default=None,
    help="Host species for --stacking auto: Ti (default: the non-mobile metals).",
)
@click.option(
    "--site-radius",
    type=float,
    default=1.0,
    show_default=True,
    help="Radius of a site's basin for hop counting (Å).",
)
@click.option(
    "--min-residence",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Frames an ion must stay in a new site before a hop counts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Write MSD (and RDF, hop) plots (PNG, SVG) into this folder.",
)
def analyze(
    traj: tuple[Path, ...],
    mobile: str,
    temperature: float,
    time_step_fs: float,
    type_map: list[str] | None,
    fmt: str | None,
    charge: float,
    blocks: int,
    fit_window_ps: tuple[float, float] | None,
    no_drift_correction: bool,
    host_com: tuple[Path, ...],
    rdf_pairs: str | None,
    rdf_r_max: float | None,
    rdf_bins: int,
    rdf_stride: int,
    stacking: str | None,
    host: str | None,
    site_radius: float,
    min_residence: int,
    as_json: bool,
    plot_dir: Path | None,
) -> None:
    """Self/collective diffusion, Haven ratio and Nernst–Einstein conductivity of TRAJ.

    Several TRAJ files are the restart chunks of one run, in order; the frame repeated at each
    join is dropped. --rdf and --stacking add the sections "rdf" and "hops" to the output.
    """
    from litcl_flows.analysis.md_run import layer_hops, mobile_transport
    from litcl_flows.io import TrajectoryFormatError

    # What is imported so far lives as long as the process: keep it out of the garbage
    # collector's passes (~30–50 ms of a run on a small file).
    gc.freeze()
    hkl = None if stacking in (None, "auto") else _parse_hkl(stacking)
    label = str(traj[0]) if len(traj) == 1 else f"{traj[0]} (+{len(traj) - 1} files)"
    tap = _FrameTap(rdf_pairs, rdf_r_max, rdf_bins, rdf_stride)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            trajectory, result = mobile_transport(
                tap(_read_chunks(traj, fmt, type_map)),
                mobile,
                temperature,
                time_step_fs,
                label=label,
                drift_correction=not no_drift_correction,
                host_com_files=host_com,
                charge=charge,
                n_blocks=blocks,
                fit_window_ps=fit_window_ps or None,
            )
            rdfs = None if tap.rdf is None else tap.rdf.results()
            hops = None
            if stacking is not None:
                hops = layer_hops(
                    trajectory, tap.first, mobile, hkl, host, site_radius, min_residence
                )
        except (TrajectoryFormatError, ValueError, OSError) as err:
            raise click.ClickException(str(err).splitlines()[0]) from err
    _echo_warnings(caught)
    if plot_dir is not None:
        stem = f"{traj[0].stem}_{temperature:g}K"
        _write_plots(plot_dir, stem, traj[0].stem, result, rdfs, hops, trajectory.positions_A)
    if as_json:
        click.echo(json.dumps(_json_object(result, rdfs, hops)))
        return
    _echo_transport(label, mobile, temperature, result)
    _echo_rdf_and_hops(rdfs, hops)


def _read_chunks(
    traj: tuple[Path, ...], fmt: str | None, type_map: list[str] | None
) -> Iterator[Frame]:
    """The frames of the restart chunks ``traj`` as one stream (:func:`chain_frames`); a LAMMPS
    dump shows a progress bar per file on a terminal."""
    from litcl_flows.io import chain_frames, guess_format, iter_frames

    fmt = fmt or guess_format(traj[0])
    # No bar in a log or pipe, where rich would leave a blank line before any error; rich is
    # not even imported there (~20 ms).
    terminal = sys.stderr.isatty()

    def read(path: Path) -> Iterator[Frame]:
        if fmt != "lammps-dump":
            yield from iter_frames(path, fmt, type_map)  # type: ignore[arg-type]
            return
        if terminal:
            # one bar per file, closed before the next opens (rich allows one at a time)
            from rich.progress import open as progress_open

            opened = progress_open(path, "rb", description=f"reading {path.name}", transient=True)
        else:
            opened = open(path, "rb")  # noqa: SIM115 (closed by the with below)
        with opened as handle:
            yield from iter_frames(path, "lammps-dump", type_map, handle=handle)

    return chain_frames((read(p) for p in traj), [str(p) for p in traj])


def _write_plots(
    plot_dir: Path,
    stem: str,
    name: str,
    result: TransportResult,
    rdfs: dict[tuple[str, str], RDF] | None,
    hops: HopResult | None,
    positions_A: np.ndarray,
) -> None:
    """MSD, and RDF and hop figures when computed, as ``<kind>_<stem>.png``/``.svg``."""
    from litcl_flows.analysis.plots import plot_hops, plot_msd, plot_rdf

    paths = plot_msd([result], plot_dir / f"msd_{stem}")
    if rdfs is not None:
        paths += plot_rdf({name: rdfs}, plot_dir / f"rdf_{stem}")
    if hops is not None:
        paths += plot_hops(hops, result.msd.time_ps, plot_dir / f"hops_{stem}", positions_A)
    for path in paths:
        click.echo(f"wrote {path}", err=True)


def _json_object(
    result: TransportResult, rdfs: dict[tuple[str, str], RDF] | None, hops: HopResult | None
) -> dict[str, object]:
    """The ``--json`` object: the transport numbers, then the "rdf" and "hops" sections."""
    data: dict[str, object] = dict(result.to_json_dict())
    if rdfs is not None:
        data["rdf"] = {rdf.label: rdf.to_json_dict() for rdf in rdfs.values()}
    if hops is not None:
        data["hops"] = hops.to_json_dict()
    return data


def _echo_transport(label: str, mobile: str, temperature: float, result: TransportResult) -> None:
    """The transport numbers as text, with their standard errors and 95 % intervals."""

    def interval(bounds: tuple[float, float]) -> str:
        return f"[{bounds[0]:.3e}, {bounds[1]:.3e}]"

    click.echo(
        f"{label}: {result.n_frames} frames, {result.n_mobile} {mobile}, "
        f"{temperature:g} K, fit window {result.fit_window_ps[0]:.4g}–"
        f"{result.fit_window_ps[1]:.4g} ps, displacements relative to the "
        f"{result.reference_frame}"
    )
    click.echo(
        f"  ± standard error; [95 % interval, Student t with {result.stderr_dof} degrees of "
        f"freedom from {result.n_blocks} blocks]"
    )
    click.echo(
        f"  D_self   {result.D_self_cm2_s:.4e} ± {result.D_self_stderr_cm2_s:.1e} cm^2/s "
        f"{interval(result.D_self_interval_cm2_s)}"
    )
    click.echo(
        f"  D_total  {result.D_total_cm2_s:.4e} ± {result.D_total_stderr_cm2_s:.1e} cm^2/s "
        f"{interval(result.D_total_interval_cm2_s)}"
    )
    click.echo(f"  H_R      {result.haven_ratio:.3g} ± {result.haven_ratio_stderr:.2g}")
    click.echo(
        f"  sigma    {result.conductivity_mS_cm:.4g} ± "
        f"{result.conductivity_stderr_mS_cm:.2g} mS/cm (from D_total; "
        f"{result.conductivity_self_mS_cm:.4g} mS/cm from D_self)"
    )
    click.echo(
        f"  MSD exponent over the window: self {result.msd_exponent_self:.2f}, total "
        f"{result.msd_exponent_total:.2f} ({'diffusive' if result.diffusive else 'NOT diffusive'})"
    )


def _echo_rdf_and_hops(rdfs: dict[tuple[str, str], RDF] | None, hops: HopResult | None) -> None:
    """Each g(r)'s first shell and the hop counts as text."""
    for rdf in (rdfs or {}).values():
        try:
            shell = rdf.first_shell()
        except ValueError:
            click.echo(f"  g {rdf.label:<8} no peak above 1")
            continue
        click.echo(
            f"  g {rdf.label:<8} first peak {shell.peak_r_A:.3f} Å (g = {shell.peak_g:.2f}), "
            f"CN {shell.coordination_number:.2f} to {shell.minimum_r_A:.3f} Å"
        )
    if hops is not None:
        click.echo(
            f"  hops     {hops.n_hops} ({hops.n_intra_layer} intra-layer, "
            f"{hops.n_inter_layer} inter-layer) between {len(hops.sites_frac)} sites, "
            f"layers ({' '.join(map(str, hops.stacking.hkl))}) "
            f"{hops.stacking.spacing_A:.3f} Å apart"
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
    dofs = []
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
            if "stderr_dof" in data:
                dofs.append(int(data["stderr_dof"]))
        except (ValueError, KeyError, TypeError) as err:
            raise click.ClickException(f"{path}: not an analyze --json result ({err})") from err
    t, sigma, err = (np.array(col) for col in zip(*rows, strict=True))
    try:
        fit = fit_arrhenius(
            t,
            sigma,
            err,
            form=form,  # type: ignore[arg-type]
            extrapolation_K=extrapolate_K,
            error_dof=min(dofs) if len(dofs) == len(rows) else None,
        )
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
