"""Cost of one concurrent-learning iteration on the embedded engines, stage by stage.

Run: ``.venv/bin/python benchmarks/learning.py [--supercell 1] [--reference-steps 60]
[--models 2] [--train-steps 300] [--explore-steps 100] [--max-labelled 10] [--threads 1]``.
The stages of :class:`~litcl_flows.makers.learning.ConcurrentLearningMaker`'s iteration, each
run through its own Maker with jobflow's ``run_locally`` (so the timings include jobflow, the
job folders and the blobs the loop pays for too): the dataset, the ensemble's training, the
LAMMPS exploration writing ``model_devi.out``, the trust-level selection and reading of the
picked frames (the loop's ``decide``), and the CHGNet labelling of those frames. The CHGNet
reference MD the loop starts from is timed apart (it is not part of an iteration).
Cell: Li3TiCl6 ordered by majority occupancy (20 atoms) times ``supercell`` along each axis.
Prints one table; nothing is stored.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Run as a script, this file's folder comes first on sys.path; take it off, as
# benchmarks/deepmd_training.py does, so that no benchmark shadows a package.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import numpy as np  # noqa: E402
from jobflow import Flow, Job, JobStore, run_locally  # noqa: E402
from maggma.stores import MemoryStore  # noqa: E402

from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput  # noqa: E402
from litcl_flows.engines.deepmd.trust import (  # noqa: E402
    TrustLevels,
    read_model_deviation,
    select_frames,
)
from litcl_flows.makers.deepmd import (  # noqa: E402
    DeepmdDatasetMaker,
    DeepmdEnsembleMaker,
    DeepmdTrainMaker,
)
from litcl_flows.makers.labelling import LabelFramesMaker  # noqa: E402
from litcl_flows.makers.lammps import LammpsDeepmdMDMaker  # noqa: E402
from litcl_flows.makers.learning import frames_at_steps  # noqa: E402
from litcl_flows.makers.reference import CHGNET  # noqa: E402
from litcl_flows.schemas.lammps import LammpsMDDocument  # noqa: E402
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy  # noqa: E402

BIN = Path(sys.executable).parent
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "TF_INTRA_OP_PARALLELISM_THREADS",
    "TF_INTER_OP_PARALLELISM_THREADS",
)


def timed(work: Job | Flow, store: JobStore, root: Path) -> tuple[float, Any]:
    """Run ``work`` locally; its wall time (s) and its output, loaded from ``store``."""
    start = time.perf_counter()
    run_locally(work, store=store, create_folders=True, root_dir=root, ensure_success=True)
    seconds = time.perf_counter() - start
    jobs = [work] if isinstance(work, Job) else work.jobs
    outputs = [_plain(store.get_output(j.uuid, load=True)) for j in jobs]
    return seconds, outputs[0] if isinstance(work, Job) else outputs


def _plain(output: Any) -> Any:
    """A stored document as a dict (the store gives back either)."""
    return output.model_dump() if hasattr(output, "model_dump") else output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--supercell", type=int, default=1, help="copies along each axis")
    parser.add_argument("--reference-steps", type=int, default=60)
    parser.add_argument("--models", type=int, default=2)
    parser.add_argument("--train-steps", type=int, default=300)
    parser.add_argument("--explore-steps", type=int, default=100)
    parser.add_argument("--deviation-every", type=int, default=10)
    parser.add_argument("--max-labelled", type=int, default=10)
    parser.add_argument("--temperature", type=float, default=600.0)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    cell = order_by_majority_occupancy(load_structure("li3ticl6")) * args.supercell
    n_atoms = len(cell)
    store = JobStore(MemoryStore(), additional_stores={"data": MemoryStore()})
    store.connect()
    rows: list[tuple[str, str, float, str]] = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        reference = CHGNET.aimd_maker(
            temperature_K=args.temperature,
            n_steps=args.reference_steps,
            time_step_fs=1.0,
            hubbard_u_eV={},
            n_segments=1,
            walltime_s=None,
            traj_interval=2,
            velocity_seed=1,
        ).make(cell)
        s_ref, ref_doc = timed(reference, store, root)

        s_data, dataset = timed(
            DeepmdDatasetMaker(
                valid_fraction=0.3, frame_stride_fs=0.0, gap_fs=0.0, stress_unit="eV/A3"
            ).make([ref_doc]),
            store,
            root,
        )
        rows.append(
            (
                "dataset",
                f"{dataset['n_frames_train']} + {dataset['n_frames_valid']} frames",
                s_data,
                "",
            )
        )

        training = DeepmdTrainingInput.demo(
            rcut_A=4.5,
            embedding_neurons=[4, 8],
            fitting_neurons=[8, 8],
            numb_steps=args.train_steps,
            decay_steps=max(args.train_steps // 6, 1),
            disp_freq=max(args.train_steps // 6, 1),
            save_freq=args.train_steps,
        )
        ensemble = DeepmdEnsembleMaker(
            train_maker=DeepmdTrainMaker(
                training_input=training,
                dp_cmd=str(BIN / "dp"),
                compress=False,
                threads=args.threads,
            ),
            n_models=args.models,
        ).make(dataset)
        s_train, trainings = timed(ensemble, store, root)
        steps_per_s = np.mean([t["steps_per_s"] for t in trainings])
        rows.append(
            (
                "ensemble training",
                f"{args.models} × {args.train_steps} steps",
                s_train,
                f"{steps_per_s:.0f} steps/s per model by dp; the rest: start, freeze, test",
            )
        )

        models = [t["model_path"] for t in trainings]
        explore = LammpsDeepmdMDMaker(
            name="exploration",
            n_steps=args.explore_steps,
            equilibration_steps=0,
            minimize=False,
            thermo_every=args.deviation_every,
            dump_mobile_every=args.deviation_every,
            dump_all_every=args.deviation_every,
            restart_every=args.explore_steps,
            lmp_cmd=str(BIN / "lmp"),
            lmp_env={key: str(args.threads) for key in THREAD_VARIABLES},
            polling_time_s=1,
        ).make(cell, models[0], args.temperature, dataset["type_map"], deviation_models=models[1:])
        s_explore, run = timed(explore, store, root)
        run = run if isinstance(run, LammpsMDDocument) else LammpsMDDocument.model_validate(run)
        rows.append(
            (
                "exploration (LAMMPS)",
                f"{n_atoms} atoms × {args.explore_steps} steps",
                s_explore,
                f"{n_atoms * args.explore_steps / s_explore / 1e3:.1f} katom-step/s, "
                f"deviation of {args.models - 1} more model(s)",
            )
        )

        start = time.perf_counter()
        deviation = read_model_deviation(run.model_deviation.files)
        levels = TrustLevels(level_f_lo_eV_A=0.05, level_f_hi_eV_A=2.0)
        selection = select_frames(deviation.max_devi_f_eV_A, levels, args.max_labelled, 0)
        picked = frames_at_steps(run, set(deviation.steps[selection.picked_indices].tolist()))
        s_select = time.perf_counter() - start
        rows.append(
            (
                "selection",
                f"{len(picked)} of {selection.n_frames} frames",
                s_select,
                f"candidates {100 * selection.candidate_fraction:.0f} %",
            )
        )

        label = LabelFramesMaker(reference_engine="chgnet", static_maker=CHGNET.static_maker({}))
        s_label, _ = timed(label.make(picked), store, root)
        rows.append(
            (
                "CHGNet labelling",
                f"{len(picked)} frames",
                s_label,
                f"{s_label / max(len(picked), 1):.2f} s/frame",
            )
        )

    total = sum(r[2] for r in rows)
    print(f"threads={args.threads}  Li3TiCl6 {n_atoms} atoms, {args.temperature:g} K")
    print(f"{'stage':22s} {'size':28s} {'s':>7s}  note")
    print(
        f"{'(reference MD, CHGNet)':22s} {f'{n_atoms} atoms × {args.reference_steps} steps':28s} "
        f"{s_ref:7.1f}  not part of an iteration"
    )
    for stage, size, seconds, note in rows:
        print(f"{stage:22s} {size:28s} {seconds:7.1f}  {note}")
    print(f"{'one iteration':22s} {'':28s} {total:7.1f}")


if __name__ == "__main__":
    main()
