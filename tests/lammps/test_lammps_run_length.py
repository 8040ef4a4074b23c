"""ML-MD whose length is set by the error of D: real LAMMPS runs, chunk by chunk."""

from __future__ import annotations

import pytest
from jobflow import run_locally

from litcl_flows.analysis.run_length import RunLengthTarget
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker, RunLengthControl

THREADS_ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def _maker(lmp_cmd: str, target: RunLengthTarget, n_steps: int) -> LammpsDeepmdMDMaker:
    return LammpsDeepmdMDMaker(
        n_steps=n_steps,
        equilibration_steps=200,
        minimize=False,
        thermo_every=10,
        dump_mobile_every=5,
        dump_all_every=50,
        restart_every=100,
        lmp_cmd=lmp_cmd,
        lmp_env=THREADS_ENV,
        polling_time_s=1,
        run_length=RunLengthControl(
            fit_window_ps=(0.05, 0.2), target=target, check_every_steps=400
        ),
    )


def _run(maker, structure, model, store):
    job = maker.make(structure, str(model), 1500.0, ["Li", "P", "S"])
    responses = run_locally(job, store=store, create_folders=True, ensure_success=True)
    return responses[job.uuid][max(responses[job.uuid])].output


@pytest.mark.slow
def test_run_stops_when_its_error_meets_the_target(
    tmp_path, monkeypatch, li7p3s11, deepmd_model, lmp_cmd, memory_job_store
) -> None:
    monkeypatch.chdir(tmp_path)
    # a loose target, so that the 84-atom test cell meets it within a few hundred steps
    target = RunLengthTarget(
        rel_stderr_D_self=0.5, min_hops_per_ion=0.0, max_exponent_deviation=1.0
    )
    doc = _run(_maker(lmp_cmd, target, 2200), li7p3s11, deepmd_model, memory_job_store)
    reasons = [record.reason for record in doc.run_length]
    assert reasons[-1] == "converged" and set(reasons[:-1]) == {"continue"}
    assert doc.stop_reason == "converged"
    # verdicts every 400 steps after the 200 of equilibration; stopped before the maximum
    assert [record.step for record in doc.run_length] == list(range(600, doc.n_steps_done + 1, 400))
    assert doc.n_steps_done < 2200 and doc.completed
    assert doc.n_chunks == len(doc.run_length)
    last = doc.run_length[-1]
    assert last.rel_stderr_D_self <= 0.5 and last.length_ps == (doc.n_steps_done - 200) / 1000
    # the first verdicts came before the fixed window fitted in a block: they say so
    assert "too short" in doc.run_length[0].explanation
    # each continuation is one more chunk of the same run, named so
    names = [d["name"] for d in sorted(memory_job_store.query({}), key=lambda d: d["index"])]
    assert names == ["lammps deepmd nvt"] + [
        f"lammps deepmd nvt chunk {k}" for k in range(2, doc.n_chunks + 1)
    ]


@pytest.mark.slow
def test_run_stops_at_its_maximum_length_when_the_target_is_out_of_reach(
    tmp_path, monkeypatch, li7p3s11, deepmd_model, lmp_cmd, memory_job_store
) -> None:
    monkeypatch.chdir(tmp_path)
    target = RunLengthTarget(rel_stderr_D_self=1e-6)
    doc = _run(_maker(lmp_cmd, target, 1400), li7p3s11, deepmd_model, memory_job_store)
    assert [record.reason for record in doc.run_length] == ["continue", "continue", "max_length"]
    assert doc.stop_reason == "max_length" and doc.n_steps_done == 1400
    assert "maximum length 1.2 ps" in doc.run_length[-1].explanation
    assert "D_self error" in doc.run_length[-1].explanation


def test_fixed_length_runs_record_no_verdicts() -> None:
    maker = LammpsDeepmdMDMaker(n_steps=1000, equilibration_steps=100)
    assert maker.first_target_step() == 1000
    controlled = LammpsDeepmdMDMaker(
        n_steps=1000,
        equilibration_steps=100,
        run_length=RunLengthControl(fit_window_ps=(0.01, 0.05), check_every_steps=300),
    )
    assert controlled.first_target_step() == 400
    # the Maker with its rule survives serialisation (FireWorks stores it as JSON)
    import json

    from monty.json import MontyDecoder, MontyEncoder

    again = json.loads(json.dumps(controlled, cls=MontyEncoder), cls=MontyDecoder)
    assert again.run_length == controlled.run_length
