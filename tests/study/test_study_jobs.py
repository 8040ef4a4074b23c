"""The study's analysis jobs on hand-made inputs: failed temperatures, the fit, the lattice."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import constants

from litcl_flows.makers.study import conventional_lattice, fit_branch_arrhenius
from litcl_flows.schemas.study import TransportRunDocument

K_B_EV = constants.k / constants.e


def _run(temperature_K: float, sigma: float | None, completed: bool = True) -> TransportRunDocument:
    return TransportRunDocument(
        study="s",
        hubbard_u_eV={"Ti": 4.0},
        temperature_K=temperature_K,
        completed=completed,
        failure_reason=None if completed else "ML-MD stopped at step 10 of 100",
        md_uuid=f"md-{temperature_K:g}",
        conductivity_mS_cm=sigma,
        conductivity_stderr_mS_cm=None if sigma is None else 0.05 * sigma,
    )


def _sigma(temperature_K: float, ea_eV: float = 0.3, sigma0: float = 5e3) -> float:
    return sigma0 * np.exp(-ea_eV / (K_B_EV * temperature_K))


def test_arrhenius_uses_the_finished_temperatures_and_names_the_others() -> None:
    temperatures = [600.0, 700.0, 800.0, 900.0, 1000.0]
    runs = [
        _run(600.0, _sigma(600.0)),
        None,  # its analysis job never ran
        _run(800.0, None, completed=False),
        _run(900.0, _sigma(900.0)),
        _run(1000.0, _sigma(1000.0)),
    ]
    uuids = [f"md-{t:g}" for t in temperatures]
    doc = fit_branch_arrhenius.original(
        runs, uuids, temperatures, "s", {"Ti": 4.0}, "sigma", 298.15
    )
    assert doc.completed
    assert doc.temperatures_K == [600.0, 900.0, 1000.0]
    # Exact Arrhenius data: the fit returns the Ea and σ(298 K) they were made with.
    assert doc.activation_energy_eV == pytest.approx(0.3, rel=1e-9)
    assert doc.conductivity_298K_mS_cm == pytest.approx(_sigma(298.15), rel=1e-9)
    failed = {f.temperature_K: f.reason for f in doc.failed_temperatures}
    assert failed == {
        700.0: "the transport analysis job did not finish",
        800.0: "ML-MD stopped at step 10 of 100",
    }


def test_arrhenius_of_the_self_conductivity_leaves_the_total_one_alone() -> None:
    temperatures = [600.0, 800.0, 1000.0]
    runs = [
        _run(t, sigma=-1.0).model_copy(
            update={
                "conductivity_self_mS_cm": _sigma(t, ea_eV=0.2),
                "conductivity_self_stderr_mS_cm": 0.1 * _sigma(t, ea_eV=0.2),
            }
        )
        for t in temperatures
    ]
    doc = fit_branch_arrhenius.original(
        runs, ["a", "b", "c"], temperatures, "s", {}, "sigma", 298.15, conductivity="self"
    )
    assert doc.completed and doc.conductivity == "self"
    assert doc.activation_energy_eV == pytest.approx(0.2, rel=1e-9)
    assert doc.conductivity_stderrs_mS_cm == pytest.approx(
        [0.1 * _sigma(t, ea_eV=0.2) for t in temperatures]
    )


def test_arrhenius_needs_three_temperatures() -> None:
    runs = [_run(600.0, _sigma(600.0)), _run(700.0, None), _run(800.0, _sigma(800.0))]
    doc = fit_branch_arrhenius.original(
        runs, ["a", "b", "c"], [600.0, 700.0, 800.0], "s", {}, "sigma", 298.15
    )
    assert not doc.completed
    assert doc.activation_energy_eV is None
    assert doc.failure_reason == "2 temperature(s) finished; the fit needs 3"
    assert doc.failed_temperatures[0].reason == "σ from D_total or its standard error is missing"


def test_a_run_with_sigma_below_zero_stays_in_the_fit_as_an_upper_limit() -> None:
    temperatures = [600.0, 700.0, 800.0, 900.0]
    runs = [_run(t, _sigma(t)).model_copy(update={"n_blocks": 5}) for t in temperatures]
    runs[0] = runs[0].model_copy(
        update={"conductivity_mS_cm": -0.2, "conductivity_stderr_mS_cm": 0.5}
    )
    doc = fit_branch_arrhenius.original(
        runs, ["a", "b", "c", "d"], temperatures, "s", {}, "sigma", 298.15
    )
    assert doc.completed and doc.temperatures_K == temperatures and not doc.failed_temperatures
    assert doc.error_dof == 4
    # one-sided 95 % Student t with 4 degrees of freedom: 2.1318468 (tables)
    assert [limit.model_dump() for limit in doc.upper_limits] == [
        {
            "temperature_K": 600.0,
            "conductivity_upper_mS_cm": pytest.approx(-0.2 + 2.1318468 * 0.5),
            "md_uuid": "md-600",
        }
    ]


def test_conventional_lattice_divides_out_the_supercell() -> None:
    from pymatgen.core import Lattice, Structure

    cell = Lattice.monoclinic(6.35, 10.88, 6.337, 110.2)
    structure = Structure(cell, ["Li"], [[0, 0, 0]]).make_supercell([2, 1, 2], in_place=False)
    lattice = conventional_lattice(structure, [[2, 0, 0], [0, 1, 0], [0, 0, 2]])
    assert (lattice["a_A"], lattice["b_A"], lattice["c_A"]) == pytest.approx((6.35, 10.88, 6.337))
    assert lattice["beta_deg"] == pytest.approx(110.2)


def test_a_dataset_that_did_not_finish_leaves_no_frame_counts() -> None:
    """An unfinished dataset job resolves its counts to None: read as no counts, which the
    study document stores (its BranchSummary takes whole numbers or None), not a failure."""
    from litcl_flows.makers.study import StudyBranchInputs

    branch = StudyBranchInputs.model_validate(
        {
            "hubbard_u_eV": {"Ti": 4.0},
            "relax_uuid": "relax",
            "relax": {},
            "train_uuid": "train",
            "train": {
                "validation": None,
                "numb_steps": None,
                "n_frames": {"train": None, "valid": None},
            },
        }
    )
    assert branch.train is not None and branch.train.n_frames is None
    finished = StudyBranchInputs.model_validate(
        {**branch.model_dump(), "train": {"n_frames": {"train": 73, "valid": 10}}}
    )
    assert finished.train is not None and finished.train.n_frames == {"train": 73, "valid": 10}
