"""`litcl report`: documents of a finished study in a JobStore → index.html with PNG figures."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from litcl_flows.analysis import units
from litcl_flows.analysis.arrhenius import fit_arrhenius
from litcl_flows.cli.main import cli
from litcl_flows.report import write_report
from litcl_flows.schemas.deepmd import DeepmdErrorMetrics, DeepmdTrainingDocument, FileBlob
from litcl_flows.schemas.learning import ConcurrentLearningDocument
from litcl_flows.schemas.neb import BarrierTableRow, HopBarrierDoc, NebBarrierTable
from litcl_flows.schemas.study import (
    ArrheniusDocument,
    BranchSummary,
    ComparisonRow,
    RdfComparison,
    TransportRunDocument,
    TransportStudyDocument,
)
from litcl_flows.store.report_data import ReportData, load_report_data

STUDY = "report-test"
U = {"Ti": 4.0}
METADATA = {"study": STUDY, "material": "Li3TiCl6", "reference_engine": "chgnet"}
STAND_IN_LABEL = "stand-in engine (CHGNet in place of DFT+U)"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
TEMPERATURES_K = (600.0, 700.0, 800.0)
FAILED_K = 500.0
EA_eV, HAVEN = 0.30, 1.5
#: Why each run stopped, as the transport documents carry it from their ML-MD runs.
STOPS: dict[float, dict[str, Any]] = {
    600.0: {
        "stop_reason": "converged",
        "stop_explanation": "converged at 1200 ps: D_self error ≤ 10.0 %, MSD exponent 0.97, "
        "6.2 hops per ion",
        "stop_length_ps": 1200.0,
        "n_run_length_verdicts": 3,
        "out_of_domain_fraction": 0.125,
    },
    700.0: {
        "stop_reason": "max_length",
        "stop_explanation": "stopped at the maximum length 5450 ps: D_self error 14.0 % > 10.0 %",
        "stop_length_ps": 5450.0,
        "n_run_length_verdicts": 11,
    },
    800.0: {"stop_reason": "fixed_length"},
}
TRAINING_DATA = ["learning_curve", "parity", "frozen_model_blob", "compressed_model_blob"]
ANALYSIS_DATA = ["msd", "rdf", "hop_traces"]


def _conductivity(t: float) -> float:
    """σ(T) with Ea 0.30 eV and σ(298 K) = 1 mS/cm."""
    return np.exp(-EA_eV / units.BOLTZMANN_EV_K * (1 / t - 1 / 298.0))


def _run(t: float, completed: bool = True) -> TransportRunDocument:
    """One run; the arrays (data store) only in the analysis job's copy."""
    if not completed:
        return TransportRunDocument(
            study=STUDY,
            hubbard_u_eV=U,
            temperature_K=t,
            completed=False,
            failure_reason="LAMMPS stopped: walltime",
            md_uuid=f"md-{t:g}",
        )
    d_self = 1e-6 * np.exp(-EA_eV / units.BOLTZMANN_EV_K * (1 / t - 1 / 700))
    sigma = _conductivity(t)
    return TransportRunDocument(
        study=STUDY,
        hubbard_u_eV=U,
        temperature_K=t,
        completed=True,
        md_uuid=f"md-{t:g}",
        D_self_cm2_s=d_self,
        D_self_stderr_cm2_s=0.05 * d_self,
        D_total_cm2_s=d_self / HAVEN,
        D_total_stderr_cm2_s=0.2 * d_self / HAVEN,
        haven_ratio=HAVEN,
        haven_ratio_stderr=0.3,
        conductivity_mS_cm=sigma,
        conductivity_stderr_mS_cm=0.1 * sigma,
        conductivity_self_mS_cm=sigma * HAVEN,
        n_mobile=48,
        fit_window_ps=[2.0, 8.0],
        n_frames=101,
        n_blocks=5,
        warnings=["coarse frames"] if t == 800.0 else [],
        **STOPS[t],
    )


def _with_arrays(run: TransportRunDocument, scale: float = 1.0) -> TransportRunDocument:
    """The analysis job's output: MSD linear in time, Gaussian RDF peaks, two hop traces."""
    time_ps = np.linspace(0.0, 10.0, 101)
    msd_self = 6 * run.D_self_cm2_s * 1e4 * time_ps * scale  # cm²/s → Å²/ps
    msd_total = msd_self / HAVEN
    r = np.linspace(0.05, 7.95, 80)

    def g(peak: float) -> list[float]:
        return np.where(r < peak - 0.6, 0.0, 1 + 2.5 * np.exp(-(((r - peak) / 0.12) ** 2))).tolist()

    rdf = [
        RdfComparison(
            pair=pair,
            r_A=r.tolist(),
            g_mlmd=g(peak),
            g_reference=g(peak + 0.02),
            first_peak_mlmd_A=peak,
            first_peak_reference_A=peak + 0.02,
            similarity=0.97,
        )
        for pair, peak in (("Cl-Ti", 2.53), ("Cl-Li", 2.53), ("Li-Li", 3.5))
    ]
    layer = np.zeros(101, dtype=int)
    layer[50:] = 1
    return run.model_copy(
        update={
            "msd": {
                "time_ps": time_ps.tolist(),
                "self_A2": msd_self.tolist(),
                "total_A2": msd_total.tolist(),
                "distinct_A2": (msd_total - msd_self).tolist(),
            },
            "rdf": rdf,
            "rdf_reference_temperature_K": 600.0,
            "hops": {"n_hops": 12, "n_intra_layer_hops": 9, "n_inter_layer_hops": 3},
            "hop_traces": {
                "time_ps": time_ps.tolist(),
                "ions": [3, 7],
                "layer_index": [layer.tolist(), [2] * 101],
            },
        }
    )


def _training(tmp: Path) -> DeepmdTrainingDocument:
    rng = np.random.default_rng(0)
    e_ref = -4.1 + 0.02 * rng.standard_normal(20)
    f_ref = rng.standard_normal(20 * 4 * 3)
    step = np.arange(0, 1100, 100)
    model = tmp / "frozen_model.pb"
    model.write_bytes(b"not a real model")
    metrics = {"energy_mae_eV_per_atom": 8e-4, "energy_rmse_eV_per_atom": 1e-3}
    metrics |= {"force_mae_eV_A": 0.04, "force_rmse_eV_A": 0.05}
    return DeepmdTrainingDocument(
        dir_name=str(tmp),
        type_map=["Li", "Ti", "Cl"],
        training_input={},
        seed=1,
        numb_steps=1000,
        last_step=1000,
        n_restarts=0,
        corrections=[],
        compressed=False,
        tested_model="frozen_model.pb",
        model_path=str(model),
        validation=DeepmdErrorMetrics(
            n_frames=20,
            force_mae_per_element_eV_A={"Li": 0.03},
            force_rmse_per_element_eV_A={"Li": 0.04},
            **metrics,
        ),
        training_walltime_s=60.0,
        steps_per_s=20.0,
        learning_curve={
            "step": step.tolist(),
            "rmse_e_trn": (0.1 / (1 + step / 100)).tolist(),
            "rmse_e_val": (0.12 / (1 + step / 100)).tolist(),
            "rmse_f_trn": (1.0 / (1 + step / 200)).tolist(),
            "rmse_f_val": (1.1 / (1 + step / 200)).tolist(),
            "lr": (1e-3 * 0.9 ** (step / 100)).tolist(),
        },
        parity={
            "energy_data_eV_per_atom": e_ref.tolist(),
            "energy_pred_eV_per_atom": (e_ref + 1e-3 * rng.standard_normal(20)).tolist(),
            "force_data_eV_A": f_ref.tolist(),
            "force_pred_eV_A": (f_ref + 0.05 * rng.standard_normal(f_ref.size)).tolist(),
            "force_element": ["Li", "Li", "Ti", "Cl"] * 3 * 20,
        },
        frozen_model_blob=FileBlob.from_path(model),
        compressed_model_blob=None,
    )


def _hop(direction: str, barrier: float, length: float) -> HopBarrierDoc:
    from emmet.core.neb import BarrierAnalysis, NebResult

    energies = (barrier * np.sin(np.linspace(0, np.pi, 7)) ** 2).tolist()
    analysis = BarrierAnalysis.from_energies(energies)
    return HopBarrierDoc(
        species="Li",
        mechanism="vacancy",
        direction_label=direction,
        direction=[int(c) for c in direction.strip("[]")],
        direction_angle_deg=3.0,
        equivalent_directions=[direction],
        hop_length_A=length,
        crosses_layers=direction == "[010]",
        stacking_offset_A=0.2,
        start_frac_coords=[0.0, 0.0, 0.0],
        end_frac_coords=[0.1, 0.2, 0.0],
        engine="chgnet",
        supercell=[1, 1, 2],
        num_sites=159,
        num_images=5,
        climbing_image=True,
        converged=True,
        forward_barrier_eV=analysis.forward_barrier,
        reverse_barrier_eV=analysis.reverse_barrier,
        highest_image_index=3,
        relative_energies_eV=energies,
        neb_result=NebResult(energies=energies, barrier_analysis=analysis),
    )


def _validation() -> DeepmdErrorMetrics:
    return DeepmdErrorMetrics(
        n_frames=20,
        energy_mae_eV_per_atom=8e-4,
        energy_rmse_eV_per_atom=1e-3,
        force_mae_eV_A=0.04,
        force_rmse_eV_A=0.05,
        force_mae_per_element_eV_A={"Li": 0.03},
        force_rmse_per_element_eV_A={"Li": 0.04},
    )


def _learning() -> ConcurrentLearningDocument:
    """Two iterations: 30 % of 42 frames untrusted, 10 labelled, then 4.8 %."""
    iterations = [
        {
            "iteration": k,
            "n_models": 2,
            "model_paths": [f"/m{k}a.pb", f"/m{k}b.pb"],
            "training_uuids": [f"train-{k}a", f"train-{k}b"],
            "n_training_frames": 180 + 10 * k,
            "n_labelled_frames": 10 * k,
            "validation_energy_rmse_eV_per_atom": 1e-3,
            "validation_force_rmse_eV_A": 0.05,
            "exploration_temperatures_K": [500.0, 650.0],
            "n_frames_explored": 42,
            "accurate_fraction": accurate,
            "candidate_fraction": 1 - accurate,
            "failed_fraction": 0.0,
            "level_f_lo_eV_A": 0.05,
            "level_f_hi_eV_A": 0.15,
            "level_f_lo_used_eV_A": 0.05,
            "max_devi_f_mean_eV_A": 0.04,
            "n_picked": 10 * (1 - k),
            "decision": decision,
        }
        for k, (accurate, decision) in enumerate([(0.7, "label and retrain"), (0.952, "converged")])
    ]
    return ConcurrentLearningDocument.model_validate(
        {
            "converged": True,
            "stop_reason": "converged after 2 iteration(s): 4.8 % of explored frames at or above "
            "0.05 eV/Å (≤ 5 %)",
            "converged_fraction": 0.05,
            "type_map": ["Li", "Ti", "Cl"],
            "model_paths": ["/m1a.pb", "/m1b.pb"],
            "model_path": "/m1a.pb",
            "training_uuid": "train",
            "deviation_model_paths": ["/m1b.pb"],
            "validation": _validation(),
            "numb_steps": 1000,
            "n_frames_train": 190,
            "n_frames_valid": 20,
            "iterations": iterations,
        }
    )


def _arrhenius() -> ArrheniusDocument:
    sigma = np.array([_conductivity(t) for t in TEMPERATURES_K]) * [1.03, 0.97, 1.02]
    fit = fit_arrhenius(np.array(TEMPERATURES_K), sigma, 0.1 * sigma)
    return ArrheniusDocument(
        study=STUDY,
        hubbard_u_eV=U,
        completed=True,
        form="sigma",
        temperatures_K=list(TEMPERATURES_K),
        conductivities_mS_cm=sigma.tolist(),
        conductivity_stderrs_mS_cm=(0.1 * sigma).tolist(),
        run_uuids=[f"md-{t:g}" for t in TEMPERATURES_K],
        failed_temperatures=[
            {"temperature_K": FAILED_K, "reason": "LAMMPS stopped: walltime", "md_uuid": "md-500"}
        ],
        activation_energy_eV=fit.activation_energy_eV,
        activation_energy_stderr_eV=fit.activation_energy_stderr_eV,
        prefactor=fit.prefactor,
        conductivity_298K_mS_cm=fit.conductivity_extrapolated_mS_cm,
        conductivity_298K_interval_mS_cm=list(fit.conductivity_extrapolated_interval_mS_cm),
    )


def _comparison(arrhenius: ArrheniusDocument) -> list[ComparisonRow]:
    def row(quantity: str, ours: float, study: float | None, expt: float | None, **kw: Any):
        return ComparisonRow(quantity=quantity, ours=ours, study=study, experiment=expt, **kw)

    return [
        row(
            "activation_energy_eV",
            arrhenius.activation_energy_eV,
            0.29,
            0.32,
            ours_stderr=arrhenius.activation_energy_stderr_eV,
            hubbard_u_eV=U,
            engine="lammps+deepmd",
            stand_in=True,
            source_uuid="arrhenius",
        ),
        row(
            "conductivity_298K_mS_cm",
            arrhenius.conductivity_298K_mS_cm,
            1.06,
            1.04,
            ours_interval=arrhenius.conductivity_298K_interval_mS_cm,
            hubbard_u_eV=U,
            engine="lammps+deepmd",
            stand_in=True,
        ),
        row("barrier_[010]_eV", 0.33, 0.312, None, engine="chgnet", stand_in=True),
        row("mlmd_speedup", 1200.0, 3730.0, None, hubbard_u_eV=U, engine="vasp", stand_in=False),
    ]


def study_documents(tmp: Path) -> list[tuple[dict[str, Any], dict[str, list[str]] | None]]:
    """Job documents of a small finished study, as jobflow stores them, with their routing."""
    runs = [_run(FAILED_K, completed=False), *(_run(t) for t in TEMPERATURES_K)]
    analysis_uuids = [f"analysis-{run.temperature_K:g}" for run in runs]
    arrhenius = _arrhenius()
    hops = [_hop("[110]", 0.31, 3.6), _hop("[010]", 0.33, 3.7)]
    branch = BranchSummary(
        hubbard_u_eV=U,
        hubbard_u_applied=False,
        relax_uuid="relax",
        relaxed_energy_eV_per_atom=-4.1,
        conventional_lattice={"a_A": 6.40, "b_A": 10.95, "c_A": 6.38, "beta_deg": 110.8},
        aimd_uuids=["aimd-600"],
        train_uuid="train",
        deepmd_validation=_validation(),
        deepmd_n_frames={"train": 180, "valid": 20},
        learning_uuid="loop",
        learning=_learning(),
        runs=runs,
        analysis_uuids=analysis_uuids,
        arrhenius=arrhenius,
        arrhenius_uuid="arrhenius",
        reference_s_per_atom_step=1e-3,
        mlmd_s_per_atom_step=1e-6,
        mlmd_speedup=1000.0,
    )
    table = NebBarrierTable(
        formula="Li3TiCl6",
        rows=[
            BarrierTableRow(
                direction_label=h.direction_label,
                hop_length_A=h.hop_length_A,
                crosses_layers=h.crosses_layers,
                forward_barrier_eV=h.forward_barrier_eV,
                reverse_barrier_eV=h.reverse_barrier_eV,
                engine=h.engine,
                converged=h.converged,
            )
            for h in hops
        ],
    )
    study = TransportStudyDocument(
        study=STUDY,
        material="Li3TiCl6",
        profile="demo",
        reference_engine="chgnet",
        is_stand_in=True,
        mobile_species="Li",
        spec={"name": STUDY},
        branches=[branch],
        neb_uuid="neb",
        neb_engine="chgnet",
        neb_barriers=[row.model_dump() for row in table.rows],
        comparison=_comparison(arrhenius),
        failures=[
            {
                "step": "mlmd",
                "hubbard_u_eV": U,
                "temperature_K": FAILED_K,
                "reason": "LAMMPS stopped: walltime",
                "uuid": "md-500",
            }
        ],
        versions={"litcl_flows": "0.1", "deepmd-kit": "3.2.0"},
    )

    def job(uuid: str, name: str, output: Any, index: int = 1, when: str = "2025-01-01"):
        return {
            "uuid": uuid,
            "index": index,
            "name": name,
            "metadata": METADATA,
            "completed_at": when,
            "output": output,
        }

    documents = [
        (job("train", "deepmd train U(Ti)=4", _training(tmp)), {"data": TRAINING_DATA}),
        (job("neb", "hop barriers", None), None),
        (job("neb", "store_inputs", table, index=2), None),
        (job("study", "transport study", study), None),
    ]
    for run, uuid in zip(runs[1:], analysis_uuids[1:], strict=True):
        # A replaced job: its first run's output (index 1) must not be drawn.
        documents.append((job(uuid, "transport analysis", _with_arrays(run, 3.0)), None))
        output = _with_arrays(run)
        documents.append(
            (job(uuid, "transport analysis", output, index=2), {"data": ANALYSIS_DATA})
        )
    for i, hop in enumerate(hops):
        name = f"hop neb {hop.direction_label} {hop.hop_length_A:.2f}A barrier"
        documents.append((job(f"hop-{i}", name, hop), None))
    return documents


def _fill(store: Any, tmp: Path) -> None:
    for document, save in study_documents(tmp):
        store.update(document, key=["uuid", "index"], save=save)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[ReportData, Any, str]:
    """The report of the synthetic study, from an in-memory JobStore."""
    from jobflow import JobStore
    from maggma.stores import MemoryStore

    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    _fill(store, tmp_path_factory.mktemp("docs"))
    data = load_report_data(store, STUDY)
    files = write_report(data, tmp_path_factory.mktemp("report") / "out")
    return data, files, files.html.read_text(encoding="utf-8")


def test_loader_takes_each_jobs_last_output_with_its_arrays(written) -> None:
    data, _, _ = written
    assert set(data.analyses) == {f"analysis-{t:g}" for t in TEMPERATURES_K}
    run = data.study.branches[0].runs[2]
    msd = data.analyses["analysis-700"]["msd"]
    np.testing.assert_allclose(msd["self_A2"][-1], 6 * run.D_self_cm2_s * 1e4 * 10.0)
    assert data.analyses["analysis-700"]["hop_traces"]["ions"] == [3, 7]
    training = data.trainings["train"]
    assert set(training) == {"learning_curve", "parity"}
    assert len(training["parity"]["force_data_eV_A"]) == 240
    assert [p.direction_label for p in data.neb_profiles] == ["[110]", "[010]"]
    assert data.neb_profiles[1].coordinate[-1] == 1.0


def test_index_references_every_figure_as_a_valid_png(written) -> None:
    from matplotlib.image import imread
    from PIL import Image

    _, files, text = written
    pngs = [p for p in files.figures if p.suffix == ".png"]
    assert {p.name for p in pngs} == {
        "fig1_parity_UTi4.png",
        "fig1_learning_curve_UTi4.png",
        "fig3_rdf_UTi4.png",
        "fig4_msd_UTi4.png",
        "fig5_hops_UTi4.png",
        "fig6_arrhenius_UTi4.png",
        "neb_profiles.png",
    }
    sources = re.findall(r'<img src="([^"]+)"', text)
    assert sorted(sources) == sorted(p.name for p in pngs)
    for png in pngs:
        assert png.parent == files.html.parent
        assert png.read_bytes()[:8] == PNG_MAGIC
        with Image.open(png) as image:
            image.verify()
        assert imread(png).ndim == 3
        svg = png.with_suffix(".svg")
        assert svg in files.figures and f'href="{svg.name}"' in text
    assert "<script" not in text and not re.search(r'(src|href)="https?:', text)


def test_comparison_rows_carry_the_stand_in_label(written) -> None:
    data, _, text = written
    rows = {
        m.group(1): m.group(0)
        for m in re.finditer(r"<tr><td><code>([^<]+)</code>.*?</tr>", text, flags=re.S)
    }
    for row in data.study.comparison:
        assert (STAND_IN_LABEL in rows[row.quantity]) == row.stand_in
    assert "CHGNet stood in for DFT+U" in text


def test_arrhenius_numbers_match_the_document(written) -> None:
    data, _, text = written
    fit = data.study.branches[0].arrhenius
    lo, hi = fit.conductivity_298K_interval_mS_cm
    assert f"Ea = {fit.activation_energy_eV:.4g} ± {fit.activation_energy_stderr_eV:.4g} eV" in text
    assert f"σ(298.15 K) = {fit.conductivity_298K_mS_cm:.4g} mS/cm</b> [{lo:.4g}, {hi:.4g}]" in text
    # The figure refits the stored points: it must draw the stored Ea.
    refit = fit_arrhenius(
        np.array(fit.temperatures_K),
        np.array(fit.conductivities_mS_cm),
        np.array(fit.conductivity_stderrs_mS_cm),
    )
    assert refit.activation_energy_eV == pytest.approx(fit.activation_energy_eV, rel=1e-12)
    assert "Left out of the fit: 500 K: LAMMPS stopped: walltime" in text


def test_transport_table_and_failures(written) -> None:
    data, _, text = written
    run = data.study.branches[0].runs[1]
    for value, stderr in (
        (run.D_self_cm2_s, run.D_self_stderr_cm2_s),
        (run.D_total_cm2_s, run.D_total_stderr_cm2_s),
        (run.haven_ratio, run.haven_ratio_stderr),
        (run.conductivity_mS_cm, run.conductivity_stderr_mS_cm),
    ):
        assert f"{value:.4g} ± {stderr:.4g}" in text
    assert text.count("LAMMPS stopped: walltime") == 3  # run table, Arrhenius, failures
    assert "coarse frames" in text


def test_transport_table_says_why_each_run_stopped(written) -> None:
    _, _, text = written
    rows = {
        float(m.group(1)): m.group(0)
        for m in re.finditer(r'<tr><td class="num">(\d+)</td>.*?</tr>', text, flags=re.S)
    }
    assert "converged at 1200 ps<br><small>converged at 1200 ps: D_self error ≤ 10.0 %" in rows[600]
    assert "(3 verdicts)" in rows[600]
    assert "max length at 5450 ps<br><small>stopped at the maximum length 5450 ps" in rows[700]
    assert "(11 verdicts)" in rows[700]
    assert "<td>fixed length</td>" in rows[800]
    assert "<td>–</td>" in rows[FAILED_K]  # no ML-MD document: no reason known
    assert '<td class="num">12.5 %</td>' in rows[600]  # its frames out of domain
    assert '<td class="num">–</td>' in rows[700]  # one model: no deviation


def test_concurrent_learning_iterations_are_shown(written) -> None:
    _, _, text = written
    section = text[text.index("<h3>Concurrent learning</h3>") :]
    section = section[: section.index("</table>")]
    assert "converged after 2 iteration(s)" in section
    assert "trust levels 0.05–0.15 eV/Å" in section
    assert "explores at 500, 650 K" in section
    rows = re.findall(r"<tr>(.*?)</tr>", section, flags=re.S)[1:]
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows]
    assert [row[0] for row in cells] == ["0", "1"]
    assert cells[0][1:2] == ["180 (0)"] and cells[1][1:2] == ["190 (10)"]
    assert [row[5:8] for row in cells] == [
        ["70.0 %", "30.0 %", "0.0 %"],
        ["95.2 %", "4.8 %", "0.0 %"],
    ]
    assert [row[-1] for row in cells] == ["label and retrain", "converged"]


def test_terminal_summary_shows_the_loop_and_each_runs_frames_out_of_domain(written) -> None:
    from litcl_flows.cli.demo import summary_tables

    data, _, _ = written
    tables = summary_tables(data.study.model_dump(mode="json"))
    (runs_title, runs, columns), (title, iterations, _) = tables[:2]
    assert runs_title.startswith("Li transport per temperature")
    assert "out_of_domain" in columns
    by_t = {row["T_K"]: row["out_of_domain"] for row in runs}
    assert by_t["600"] == "12.5 %" and by_t["700"] == ""  # one model: no deviation
    assert (
        title == "Concurrent learning, U_eff Ti 4 eV: converged after 2 iteration(s): 4.8 % "
        "of explored frames at or above 0.05 eV/Å (≤ 5 %)"
    )
    assert [(row["candidate"], row["labelled_next"], row["decision"]) for row in iterations] == [
        ("30.0 %", 10, "label and retrain"),
        ("4.8 %", 0, "converged"),
    ]


def test_cli_writes_the_report_from_the_embedded_store(litcl_home: Path, tmp_path: Path) -> None:
    from litcl_flows.settings import load_settings
    from litcl_flows.store.config import job_store

    store = job_store(load_settings())
    store.connect()
    _fill(store, tmp_path)
    store.close()
    out = tmp_path / "site"
    result = CliRunner().invoke(cli, ["report", STUDY, "-o", str(out), "--json"])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.output)
    assert printed["html"] == str(out / "index.html")
    assert len(printed["figures"]) == 14 and all(Path(p).is_file() for p in printed["figures"])


def test_cli_unknown_study_is_one_line_error(litcl_home: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["report", "nope", "-o", str(tmp_path / "r")])
    assert result.exit_code == 1
    assert result.output.strip() == (
        "Error: no study document for nope; is it finished? (litcl status)"
    )
    assert not (tmp_path / "r").exists()
