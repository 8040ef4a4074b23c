"""LAMMPS + DeePMD engine and Makers: inputs, log parsing, real runs, handlers, chunking."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pytest
from jobflow import run_locally
from pymatgen.core import Element

from litcl_flows.engines.lammps import (
    LammpsFatalErrorHandler,
    LammpsJob,
    LammpsMDInput,
    LammpsRunError,
    LammpsUnstableHandler,
    count_frames,
    dump_timesteps,
    parse_log,
    run_lammps,
    truncate_dump,
    type_order,
    write_inputs,
)
from litcl_flows.io import read_host_com
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker, LammpsTemperatureSweepMaker

THREADS_ENV = {
    "OMP_NUM_THREADS": "1",
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
}


def _small_maker(lmp_cmd: str | None, **kwargs) -> LammpsDeepmdMDMaker:
    settings = dict(
        n_steps=300,
        equilibration_steps=100,
        minimize=True,
        thermo_every=10,
        dump_mobile_every=10,
        dump_all_every=50,
        restart_every=100,
        lmp_cmd=lmp_cmd,
        lmp_env=THREADS_ENV,
        polling_time_s=1,
    )
    settings.update(kwargs)
    return LammpsDeepmdMDMaker(**settings)


def _read_dump(path: Path):
    """Frames with ASE, an independent reader: (steps, unwrapped positions, cells)."""
    from ase.io import read

    frames = read(path, format="lammps-dump-text", index=":")
    steps = list(dump_timesteps(path))
    return steps, np.array([f.positions for f in frames]), np.array([f.cell[:] for f in frames])


def test_inputs_pin_type_order_and_element_labels(tmp_path, li7p3s11):
    elements = type_order(li7p3s11)
    assert elements == ["Li", "P", "S"]
    params = LammpsMDInput(
        model_path="/models/graph.pb", elements=elements, temperature_K=300, n_steps=10
    )
    write_inputs(li7p3s11, tmp_path, params)
    text = (tmp_path / "in.lammps").read_text()
    assert "pair_coeff * * Li P S" in text
    assert "dump_modify dmobile element Li P S sort id" in text
    assert "group mobile type 1" in text
    assert "fix nvt all nvt temp 300 300 0.1" in text
    data = (tmp_path / "input.data").read_text()
    assert "Atom Type Labels\n\n1 Li\n2 P\n3 S" in data
    assert "# S" in data.split("Masses")[1].split("Atoms")[0]
    assert LammpsMDInput.load(tmp_path) == params


def test_parse_log_accepts_nan_and_reads_performance(third_party_dir):
    log = parse_log(third_party_dir / "deepmd/water_train_and_lammps_hodakamori/log.deepmd")
    (block,) = log.md_blocks
    assert len(block.rows) == 51
    assert block.columns[:3] == ["Step", "Temp", "E_pair"]
    assert math.isnan(block.column("Temp")[-1])
    assert log.has_nonfinite
    assert block.performance.n_steps == 5000
    assert log.last_step == 5000


def test_truncate_dump_keeps_frames_up_to_step(tmp_path, third_party_dir):
    path = tmp_path / "dump"
    shutil.copy(third_party_dir / "lammps/AlMg_npt500K_xsu_pyiron_lammps/dump.out", path)
    assert count_frames(path) == 11
    assert truncate_dump(path, 500) == 6
    assert list(dump_timesteps(path)) == [0, 100, 200, 300, 400, 500]
    assert path.read_text().endswith("\n")


@pytest.mark.slow
def test_two_temperatures_real_run(
    tmp_path, monkeypatch, li7p3s11, deepmd_model, lmp_cmd, memory_job_store
):
    monkeypatch.chdir(tmp_path)
    # No command in the Maker: the job takes the worker's setting when it runs.
    monkeypatch.setenv("LITCL_LMP_CMD", lmp_cmd)
    sweep = LammpsTemperatureSweepMaker(
        # the thermostat needs ~400 fs to lift T back after equipartition halves it
        md_maker=_small_maker(None, n_steps=800, equilibration_steps=400, dump_mobile_every=20),
        temperatures_K=(300.0, 450.0),
    )
    assert sweep.md_maker.lmp_cmd is None
    flow = sweep.make(li7p3s11, str(deepmd_model), ["Li", "P", "S"])
    responses = run_locally(flow, store=memory_job_store, create_folders=True, ensure_success=True)
    docs = [responses[j.uuid][1].output for j in flow.jobs]
    n_atoms = len(li7p3s11)
    for doc, temperature in zip(docs, (300.0, 450.0), strict=True):
        assert doc.completed and doc.n_steps_done == 800 and doc.finite
        mobile = Path(doc.dump_files[0].path)
        steps, unwrapped, cells = _read_dump(mobile)
        # frames every 20 steps from 0 to 800; Li only (28 of 84 atoms)
        assert steps == list(range(0, 801, 20))
        assert doc.n_frames_mobile == 41 and unwrapped.shape == (41, 28, 3)
        assert count_frames(Path(doc.dump_files[1].path)) == doc.n_frames_all == 17
        # temperature from the log itself, not from the document
        log = parse_log(mobile.parent / "log.lammps")
        rows = np.array([r for b in log.md_blocks for r in b.rows])
        temp = rows[rows[:, 0] >= 400, 1]
        sigma_rel = math.sqrt(2 / (3 * n_atoms))
        assert abs(temp.mean() - temperature) < 3 * sigma_rel * temperature
        assert 0.4 < temp.std() / temp.mean() / sigma_rel < 2.0
        assert doc.temperature_mean_K == pytest.approx(temp.mean())
        assert doc.throughput_katom_step_s > 0 and doc.ns_per_day > 0
        # unwrapped steps equal minimum-image steps: continuous across the box faces...
        step_cart = np.diff(unwrapped, axis=0)
        inv = np.linalg.inv(cells[0])
        frac = step_cart @ inv
        mic = (frac - np.round(frac)) @ cells[0]
        assert np.allclose(step_cart, mic, atol=1e-4)
        # ...and some Li did cross one (its wrapped image would have jumped)
        cell_index = np.floor(unwrapped @ inv)
        assert (np.diff(cell_index, axis=0) != 0).any()
        # small dump files are also in the data store, compressed
        assert doc.dump_files[0].in_data_store
        # The host's centre of mass at the mobile dump's steps (issue 15, item 1). Momentum is
        # conserved, so the system's centre of mass stays put: m_Li Σ Δr_Li = −M_host ΔR_host.
        (com_file,) = doc.host_com_files
        com = read_host_com([com_file])
        assert sorted(com) == steps
        masses = {el: float(Element(el).atomic_mass) for el in ("Li", "P", "S")}
        symbols = [site.specie.symbol for site in li7p3s11]
        m_host = sum(masses[s] for s in symbols if s != "Li")
        li_momentum = masses["Li"] * (unwrapped - unwrapped[0]).sum(axis=1)
        host_momentum = m_host * (np.array([com[s] for s in steps]) - com[0])
        assert np.abs(li_momentum + host_momentum).max() < 1e-3 * np.abs(li_momentum).max()
    stored = memory_job_store.query_one({"uuid": flow.jobs[0].uuid}, load=True)
    assert stored["output"]["dump_blobs"]


@pytest.mark.slow
def test_walltime_chunks_join_like_one_run(
    tmp_path, monkeypatch, li7p3s11, deepmd_model, lmp_cmd, memory_job_store
):
    monkeypatch.chdir(tmp_path)
    kwargs = dict(n_steps=400, thermo_every=10, dump_mobile_every=10, restart_every=1000)
    whole = _small_maker(lmp_cmd, **kwargs).make(li7p3s11, str(deepmd_model), 400.0)
    chunked = _small_maker(lmp_cmd, walltime_s=1, **kwargs).make(li7p3s11, str(deepmd_model), 400.0)
    run_locally(whole, store=memory_job_store, create_folders=True, ensure_success=True)
    run_locally(chunked, store=memory_job_store, create_folders=True, ensure_success=True)
    one = memory_job_store.get_output(whole.uuid, load=True)
    split = memory_job_store.get_output(chunked.uuid, load=True)
    assert one["n_chunks"] == 1 and split["n_chunks"] >= 2
    assert one["n_steps_done"] == split["n_steps_done"] == 400

    def joined(doc, kind):
        return [
            s for f in doc["dump_files"] if f["kind"] == kind for s in dump_timesteps(f["path"])
        ]

    for kind in ("mobile", "all"):
        assert joined(split, kind) == joined(one, kind)
    # one host centre-of-mass file per chunk; joined, one row per mobile-dump step
    assert len(split["host_com_files"]) == split["n_chunks"]
    assert sorted(read_host_com(split["host_com_files"])) == list(range(0, 401, 10))
    assert joined(split, "mobile") == list(range(0, 401, 10))
    # a chunk stopped by the walltime prints its first row at the restart step: extra rows
    assert [s for s in split["thermo"]["Step"] if s % 10 == 0] == one["thermo"]["Step"]


def _start(tmp_path, structure, model, elements=None, **kwargs) -> Path:
    params = LammpsMDInput(
        model_path=str(model),
        elements=elements or type_order(structure),
        temperature_K=400.0,
        minimize=False,
        thermo_every=1,
        dump_mobile_every=1,
        **kwargs,
    )
    write_inputs(structure, tmp_path, params)
    return tmp_path


@pytest.mark.slow
def test_lost_atoms_restart_from_restart_file_at_half_step(
    tmp_path, li7p3s11, deepmd_model, lmp_cmd
):
    # a 20 fs step loses atoms after a few steps (10 fs runs stably)
    directory = _start(
        tmp_path, li7p3s11, deepmd_model, n_steps=300, time_step_fs=20.0, restart_every=2
    )
    LammpsJob(lmp_cmd, THREADS_ENV).run(str(directory)).wait()
    handler = LammpsUnstableHandler()
    assert "ERROR: Lost atoms" in (directory / "lammps.out").read_text()
    assert handler.check(str(directory))
    restart_step = max(int(p.name.split(".")[1]) for p in directory.glob("restart.*"))
    result = handler.correct(str(directory))
    action = result["actions"][0]["action"]["_set"]
    assert action["time_step_fs"] == 10.0
    assert action["restart_file"] == f"restart.{restart_step}"
    assert max(dump_timesteps(directory / "dump.mobile.lammpstrj")) <= restart_step
    text = (directory / "in.lammps").read_text()
    assert f"read_restart restart.{restart_step}" in text and "timestep 0.01" in text
    assert "velocity" not in text


@pytest.mark.slow
def test_missing_model_and_type_map_mismatch_fail_in_one_line(
    tmp_path, li7p3s11, deepmd_model, lmp_cmd
):
    missing = _start(tmp_path / "missing", li7p3s11, tmp_path / "absent.pb", n_steps=10)
    with pytest.raises(LammpsRunError, match="Failed to open file") as info:
        run_lammps(missing, lmp_cmd, THREADS_ENV, polling_time_s=1)
    assert "\n" not in str(info.value)

    chloride = li7p3s11.copy()
    chloride.replace_species({"S": "Cl"})
    mismatch = _start(tmp_path / "mismatch", chloride, deepmd_model, n_steps=10)
    LammpsJob(lmp_cmd, THREADS_ENV).run(str(mismatch)).wait()
    handler = LammpsFatalErrorHandler()
    assert handler.check(str(mismatch))
    result = handler.correct(str(mismatch))
    assert result["actions"] is None
    assert "element Cl not found in the model" in result["errors"][0]

    maker = _small_maker(lmp_cmd)
    with pytest.raises(ValueError, match=r"\['Cl'\] are not in the model's type map"):
        maker.make.original(maker, chloride, str(deepmd_model), 300.0, ["Li", "P", "S"])
