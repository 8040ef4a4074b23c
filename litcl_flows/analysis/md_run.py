"""One ML-MD run analysed as the study does (docs/analysis.md): MSD → D, H_R, σ; RDF against the
reference AIMD; intra- vs inter-layer hops. Files and frames in, plain dictionaries out."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from litcl_flows.analysis.hops import (
    DEFAULT_MIN_RESIDENCE_FRAMES,
    DEFAULT_SITE_RADIUS_A,
    HopResult,
    count_hops,
    host_positions_A,
)
from litcl_flows.analysis.msd import MSD
from litcl_flows.analysis.rdf import RDF, RDFAccumulator, max_rdf_radius_A, rdf_similarity
from litcl_flows.analysis.trajectory import MobileTrajectory, collect_mobile
from litcl_flows.analysis.transport import (
    DEFAULT_MAX_EXPONENT_DEVIATION,
    DEFAULT_N_BLOCKS,
    TransportResult,
    analyze_trajectory,
)
from litcl_flows.io import Frame, iter_frames, read_host_com

#: RDF bins (the study's figures resolve the 2.5 Å first peaks at this width for r ≤ 8 Å).
RDF_BINS = 160
#: Ions whose layer index against time is kept for the hop-trace figure: those with the most
#: hops (the mechanism is visible there; they are not a random sample).
N_TRACED_IONS = 6


@dataclass(frozen=True)
class MDRunAnalysis:
    """Transport, RDF comparison and hops of one run (JSON-ready parts)."""

    transport: TransportResult
    msd: dict[str, list[float]]
    rdf: list[dict]
    hops: dict | None
    hop_traces: dict[str, list] | None
    warnings: tuple[str, ...]
    host_msd_A2: float | None = None


def host_msd_A2(first: Frame, last: Frame, mobile: str) -> float:
    """Mean squared displacement (Å²) of the non-mobile atoms from ``first`` to ``last``, the
    host's mean drift removed; wrapped positions are taken by minimum image in ``first``'s cell.

    In a solid electrolyte the host only vibrates (Ti and Cl of Li3TiCl6: ≈ 0.3 Å² at 900 K);
    a larger value means the framework melted or the potential left its training domain.
    """
    host = first.symbols != mobile
    displacement = last.positions_A[host] - first.positions_A[host]
    if not (first.unwrapped and last.unwrapped):
        fractional = displacement @ np.linalg.inv(first.cell_A)
        displacement = (fractional - np.round(fractional)) @ first.cell_A
    displacement -= displacement.mean(axis=0)
    return float(np.mean(np.sum(displacement**2, axis=1)))


def mobile_transport(
    frames: Iterable[Frame],
    mobile: str,
    temperature_K: float,
    time_step_fs: float,
    *,
    label: str,
    drift_correction: bool = True,
    host_com_files: Sequence[str | Path] = (),
    charge: float = 1.0,
    n_blocks: int = DEFAULT_N_BLOCKS,
    fit_window_ps: tuple[float, float] | None = None,
    max_exponent_deviation: float = DEFAULT_MAX_EXPONENT_DEVIATION,
) -> tuple[MobileTrajectory, TransportResult]:
    """The mobile ions of a frame stream (read once) and their D, H_R and σ.

    ``host_com_files``: the host centre of mass at the frames' steps, one file per chunk, for a
    dump that holds only the mobile ions (displacements then relative to it).
    """
    trajectory = collect_mobile(
        frames,
        mobile,
        drift_correction,
        label=label,
        host_com_A=read_host_com(host_com_files) if host_com_files else None,
    )
    transport = analyze_trajectory(
        trajectory,
        temperature_K,
        time_step_fs,
        charge=charge,
        n_blocks=n_blocks,
        fit_window_ps=fit_window_ps,
        max_exponent_deviation=max_exponent_deviation,
    )
    return trajectory, transport


def layer_hops(
    trajectory: MobileTrajectory,
    host_frame: Frame | None,
    mobile: str,
    stacking_hkl: tuple[int, int, int] | None,
    host: str | None = None,
    site_radius_A: float = DEFAULT_SITE_RADIUS_A,
    min_residence_frames: int = DEFAULT_MIN_RESIDENCE_FRAMES,
) -> HopResult:
    """Intra- and inter-layer hops of ``trajectory``; the layer planes are ``stacking_hkl`` or
    detected from the host cations of ``host_frame`` (``host`` species, default the
    non-mobile metals), which may then lack them."""
    return count_hops(
        trajectory.positions_A,
        trajectory.cells_A,
        stacking=stacking_hkl,
        host_positions_A=host_positions_A(host_frame, mobile, host, optional=bool(stacking_hkl))
        if host_frame is not None
        else None,
        site_radius_A=site_radius_A,
        min_residence_frames=min_residence_frames,
    )


def _after(frames: Iterable[Frame], first_step: int) -> Iterator[Frame]:
    """Frames from ``first_step`` on (equilibration left out)."""
    return (frame for frame in frames if frame.step >= first_step)


def _first_peak_A(rdf: RDF) -> float | None:
    """First-peak radius, or None when g(r) has no peak (no such neighbours in range)."""
    try:
        return rdf.first_shell().peak_r_A
    except ValueError:
        return None


def rdf_comparison(
    mlmd_frames: Iterable[Frame],
    reference_frames: Iterable[Frame] | None,
    pairs: Sequence[str],
) -> list[dict]:
    """g(r) of each pair ("Cl-Ti") from ML-MD and the reference run on a common radius grid."""
    mlmd = list(mlmd_frames)
    reference = list(reference_frames) if reference_frames is not None else []
    r_max = min(max_rdf_radius_A(f.cell_A) for f in [*mlmd[:1], *reference[:1]])
    split = [tuple(pair.split("-")) for pair in pairs]
    ours = RDFAccumulator(split, r_max, RDF_BINS)
    for frame in mlmd:
        ours.add(frame)
    theirs = None
    if reference:
        theirs = RDFAccumulator(split, r_max, RDF_BINS)
        for frame in reference:
            theirs.add(frame)
    ours_g = ours.results()
    theirs_g = theirs.results() if theirs is not None else {}
    rows = []
    for pair in split:
        g, ref = ours_g[pair], theirs_g.get(pair)
        rows.append(
            {
                "pair": "-".join(pair),
                "r_A": g.r_A.tolist(),
                "g_mlmd": g.g.tolist(),
                "g_reference": ref.g.tolist() if ref is not None else None,
                "first_peak_mlmd_A": _first_peak_A(g),
                "first_peak_reference_A": _first_peak_A(ref) if ref is not None else None,
                "similarity": rdf_similarity(g, ref) if ref is not None else None,
            }
        )
    return rows


def analyze_md_run(
    mobile_dumps: Sequence[str | Path],
    all_dumps: Sequence[str | Path],
    type_map: Sequence[str],
    mobile: str,
    temperature_K: float,
    time_step_fs: float,
    equilibration_steps: int = 0,
    n_blocks: int = 5,
    fit_window_ps: tuple[float, float] | None = None,
    stacking_hkl: tuple[int, int, int] | None = None,
    rdf_pairs: Sequence[str] = (),
    reference_frames: Iterable[Frame] | None = None,
    host_com_files: Sequence[str | Path] = (),
    max_exponent_deviation: float = DEFAULT_MAX_EXPONENT_DEVIATION,
) -> MDRunAnalysis:
    """Analyse one LAMMPS run from its dump files (restart chunks in order).

    Parameters
    ----------
    mobile_dumps
        Unwrapped positions of the mobile ions (``xu yu zu``), one file per chunk.
    all_dumps
        All atoms, sparser (RDF; host positions for the layer detection).
    type_map
        Element of each LAMMPS type, type 1 first.
    mobile
        Mobile element.
    temperature_K, time_step_fs
        Of the run.
    equilibration_steps
        Frames before this step are left out of every statistic.
    n_blocks, fit_window_ps
        Error bars and fit window (:func:`~litcl_flows.analysis.transport.analyze_transport`).
    stacking_hkl
        Layer planes for hop counting; None: detected from the host cations.
    rdf_pairs
        Pairs like ``"Cl-Ti"``; empty: no RDF.
    reference_frames
        Frames of the reference AIMD run to compare the RDF with (all atoms).
    host_com_files
        The host centre of mass at the mobile dump's steps, one file per chunk: displacements
        are then measured relative to it (drift corrected) although the dump holds no host.
    max_exponent_deviation
        Tolerance on the MSD exponent over the fit window (``diffusive`` flag).
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        frames = _after(
            iter_frames(list(mobile_dumps), "lammps-dump", type_map), equilibration_steps
        )
        trajectory, transport = mobile_transport(
            frames,
            mobile,
            temperature_K,
            time_step_fs,
            label=str(mobile_dumps[0]),
            host_com_files=host_com_files,
            n_blocks=n_blocks,
            fit_window_ps=fit_window_ps,
            max_exponent_deviation=max_exponent_deviation,
        )
        all_frames = list(
            _after(iter_frames(list(all_dumps), "lammps-dump", type_map), equilibration_steps)
        )
        rdf = rdf_comparison(all_frames, reference_frames, rdf_pairs) if rdf_pairs else []
        host = all_frames[0] if all_frames else None
        hops, traces = _hops_and_traces(trajectory, host, mobile, stacking_hkl, time_step_fs)
    return MDRunAnalysis(
        transport=transport,
        msd=_msd_record(transport.msd),
        rdf=rdf,
        hops=hops,
        hop_traces=traces,
        warnings=tuple(str(w.message) for w in caught),
        host_msd_A2=host_msd_A2(all_frames[0], all_frames[-1], mobile)
        if len(all_frames) > 1
        else None,
    )


def _hops_and_traces(
    trajectory: MobileTrajectory,
    host: Frame | None,
    mobile: str,
    stacking_hkl: tuple[int, int, int] | None,
    time_step_fs: float,
) -> tuple[dict | None, dict[str, list] | None]:
    """Layer hops and the layer index against time of the :data:`N_TRACED_IONS` most hopping
    ions; None for both, with a warning, when the layers cannot be found."""
    try:
        result = layer_hops(trajectory, host, mobile, stacking_hkl)
    except ValueError as error:
        warnings.warn(f"hops not counted: {error}", stacklevel=1)
        return None, None
    time_ps = (trajectory.steps - trajectory.steps[0]) * time_step_fs / 1000
    traced = np.argsort(result.hops_per_ion)[::-1][:N_TRACED_IONS]
    traces = {
        "time_ps": time_ps.tolist(),
        "ions": traced.tolist(),
        "layer_index": result.layer_index[:, traced].T.tolist(),
    }
    return result.to_json_dict(), traces


def _msd_record(msd: MSD) -> dict[str, list[float]]:
    """Self, total and distinct MSD against time, as stored."""
    return {
        "time_ps": msd.time_ps.tolist(),
        "self_A2": msd.self_sum_A2.tolist(),
        "total_A2": msd.total_sum_A2.tolist(),
        "distinct_A2": (msd.total_sum_A2 - msd.self_sum_A2).tolist(),
    }
