"""LAMMPS with a model ensemble writes model_devi.out; its deviation is deepmd-kit's own."""

from __future__ import annotations

import numpy as np
import pytest

from litcl_flows.engines.deepmd.trust import read_model_deviation
from litcl_flows.engines.lammps import LammpsMDInput, run_lammps, type_order, write_inputs
from litcl_flows.engines.lammps.inputs import ALL_DUMP, DEVIATION_FILE

THREADS_ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def test_single_model_input_has_no_deviation_output(li7p3s11) -> None:
    params = LammpsMDInput(
        model_path="/m0.pb", elements=type_order(li7p3s11), temperature_K=300.0, n_steps=10
    )
    assert "pair_style deepmd /m0.pb\n" in params.render()
    ensemble = LammpsMDInput(
        model_path="/m0.pb",
        elements=type_order(li7p3s11),
        temperature_K=300.0,
        n_steps=10,
        deviation_models=["/m1.pb", "/m2.pb"],
        deviation_every=5,
    )
    assert (
        "pair_style deepmd /m0.pb /m1.pb /m2.pb out_freq 5 out_file model_devi.out\n"
        in ensemble.render()
    )


@pytest.mark.slow
def test_lammps_deviation_equals_deepmd_python_on_the_dumped_frames(
    tmp_path, li7p3s11, model_ensemble, lmp_cmd
) -> None:
    """The independent path: deepmd-kit's Python inference of both models on the frames
    LAMMPS dumped, through `calc_model_devi_f`, gives the deviation LAMMPS wrote."""
    import dpdata

    from litcl_flows.engines.deepmd.ensemble import max_force_deviation

    params = LammpsMDInput(
        model_path=str(model_ensemble[0]),
        elements=type_order(li7p3s11),
        temperature_K=600.0,
        n_steps=40,
        minimize=False,
        dump_all_every=10,
        deviation_models=[str(model_ensemble[1])],
        deviation_every=10,
    )
    write_inputs(li7p3s11, tmp_path, params)
    run_lammps(tmp_path, lmp_cmd, THREADS_ENV, polling_time_s=1)
    deviation = read_model_deviation([tmp_path / DEVIATION_FILE])
    assert deviation.steps.tolist() == [0, 10, 20, 30, 40]
    assert np.all(deviation.max_devi_f_eV_A > 0)

    from ase.io import read

    frames = dpdata.System()
    for atoms in read(tmp_path / ALL_DUMP, format="lammps-dump-text", index=":"):
        frames.append(dpdata.System(atoms, fmt="ase/structure", type_map=params.elements))
    assert frames.get_nframes() == 5
    python = max_force_deviation(model_ensemble, frames)
    # the dump's 6 significant digits of position limit the agreement
    np.testing.assert_allclose(deviation.max_devi_f_eV_A, python, rtol=1e-3)


@pytest.mark.slow
def test_md_document_reports_the_fraction_out_of_domain(
    tmp_path, monkeypatch, li7p3s11, model_ensemble, lmp_cmd, memory_job_store
) -> None:
    from jobflow import run_locally

    from litcl_flows.engines.deepmd.trust import TrustLevels
    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker

    monkeypatch.chdir(tmp_path)
    levels = TrustLevels(level_f_lo_eV_A=0.02, level_f_hi_eV_A=0.5)
    maker = LammpsDeepmdMDMaker(
        n_steps=60,
        equilibration_steps=20,
        minimize=False,
        thermo_every=10,
        dump_mobile_every=10,
        dump_all_every=10,
        restart_every=20,
        lmp_cmd=lmp_cmd,
        lmp_env=THREADS_ENV,
        polling_time_s=1,
        trust_levels=levels,
    )
    job = maker.make(
        li7p3s11, str(model_ensemble[0]), 600.0, deviation_models=[str(model_ensemble[1])]
    )
    responses = run_locally(job, store=memory_job_store, create_folders=True, ensure_success=True)
    record = responses[job.uuid][1].output.model_deviation
    # by hand from the file LAMMPS wrote: frames at steps ≥ 20, sorted against 0.02 / 0.5
    table = np.loadtxt(record.files[0])
    devi = table[table[:, 0] >= 20, 4]
    assert record.n_models == 2 and record.every_steps == 10 and record.n_frames == len(devi) == 5
    assert record.accurate_fraction == np.mean(devi < 0.02)
    assert record.failed_fraction == np.mean(devi >= 0.5)
    assert record.out_of_domain_fraction == np.mean(devi >= 0.02)
    assert record.max_devi_f_max_eV_A == devi.max()


@pytest.mark.slow
def test_deviation_goes_on_in_every_chunk_of_a_continued_run(
    tmp_path, monkeypatch, li7p3s11, model_ensemble, lmp_cmd, memory_job_store
) -> None:
    """A run the run-length rule continues keeps its ensemble: each chunk writes its own
    model_devi.out and the record covers them all."""
    from jobflow import run_locally

    from litcl_flows.analysis.run_length import RunLengthTarget
    from litcl_flows.makers.lammps import LammpsDeepmdMDMaker, RunLengthControl

    monkeypatch.chdir(tmp_path)
    maker = LammpsDeepmdMDMaker(
        n_steps=60,
        equilibration_steps=0,
        minimize=False,
        thermo_every=10,
        dump_mobile_every=2,
        dump_all_every=10,
        restart_every=30,
        lmp_cmd=lmp_cmd,
        lmp_env=THREADS_ENV,
        polling_time_s=1,
        # a verdict at step 30 that cannot stop the run (a tiny error target): a second chunk
        run_length=RunLengthControl(
            fit_window_ps=(0.004, 0.01),
            target=RunLengthTarget(rel_stderr_D_self=1e-9),
            check_every_steps=30,
            n_blocks=2,
        ),
    )
    job = maker.make(
        li7p3s11, str(model_ensemble[0]), 600.0, deviation_models=[str(model_ensemble[1])]
    )
    responses = run_locally(job, store=memory_job_store, create_folders=True, ensure_success=True)
    document = responses[job.uuid][max(responses[job.uuid])].output
    assert document.n_steps_done == 60 and document.run_length[0].reason == "continue"
    assert document.stop_reason == "max_length"
    record = document.model_deviation
    assert len(record.files) == 2
    steps = np.concatenate([np.loadtxt(path)[:, 0] for path in record.files])
    assert sorted(set(steps.tolist())) == [0, 10, 20, 30, 40, 50, 60]
