"""Output document of the job that collects the labels of relabelled frames."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from litcl_flows.schemas.base import DocumentMeta, MaterialMeta


class LabelledFramesDocument(MaterialMeta, DocumentMeta):
    """Frames labelled by a reference engine's single points, for a DeePMD training set.

    ``objects["trajectory"]`` is what :class:`~litcl_flows.makers.deepmd.DeepmdDatasetMaker`
    reads from a task document; build that dataset with ``stress_unit="kBar"``.
    ``versions`` adds the engine's package.
    """

    reference_engine: str = Field(description="Engine of the single points: 'vasp' or 'chgnet'.")
    n_frames_requested: int = Field(description="Structures given to be labelled.")
    n_frames_labelled: int = Field(description="Frames with a label, in the trajectory.")
    n_labels_failed: int = Field(
        description="Structures whose single point produced no result (failed job)."
    )
    n_frames_scf_unconverged: int = Field(
        0,
        description="Labelled frames whose SCF stopped at NELM (VASP); flagged "
        "'electronic_converged' False in the trajectory, dropped by the dataset export.",
    )
    frame_indices: list[int] = Field(
        default_factory=list,
        description="Position in the input list of each labelled frame, in trajectory order.",
    )
    failed_indices: list[int] = Field(
        default_factory=list, description="Position in the input list of each failed label."
    )
    energies_eV: list[float] = Field(
        default_factory=list, description="Energy of each labelled frame (free energy), eV."
    )
    stress_unit: Literal["kBar"] = Field(
        "kBar",
        description="Unit and sign of the trajectory's stress: kBar, VASP's sign (positive: "
        "compressed), for both engines.",
    )
    objects: dict[str, Any] = Field(
        default_factory=dict,
        description="{'trajectory': pymatgen Trajectory} of the labelled frames (energy eV, "
        "forces eV/Å, stress kBar per frame); empty when no frame was labelled.",
    )
