"""Labelled frames of a training set: single-point task documents → one pymatgen ``Trajectory``.

A single point of either reference engine ends in a task document: emmet's VASP ``TaskDoc``
(the last ionic step of its last calculation) or atomate2's force-field document (its
``output``). Both give energy in eV, forces in eV/Å and stress as a 3×3 tensor in kBar with
VASP's sign (atomate2 converts the force field's ASE stress), so the trajectory built here reads
as the AIMD trajectories do: ``trajectories_to_deepmd(..., stress_unit="kBar")``.

The energy is the free energy (VASP's ``e_fr_energy``), the one the AIMD frames carry; VASP 5
vasprun files hold a wrong ``e_0_energy`` in the per-step blocks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from litcl_flows.engines.deepmd.dataset import CONVERGED_KEYS
from litcl_flows.engines.vasp.outputs import scf_converged

if TYPE_CHECKING:
    from pymatgen.core import Structure
    from pymatgen.core.trajectory import Trajectory

#: Unit and sign of the stress in the labelled frames (``trajectories_to_deepmd``'s name).
LABEL_STRESS_UNIT: Literal["kBar"] = "kBar"
#: VASP's NELM default (SCF step limit), for a calculation whose INCAR does not set it.
VASP_DEFAULT_NELM = 60


@dataclass
class FrameLabel:
    """The labels of one structure (units in the field names)."""

    structure: Structure
    energy_eV: float
    forces_eV_A: list[list[float]]
    stress_kBar: list[list[float]] | None
    #: False when the SCF stopped at NELM; None when the document does not say.
    scf_converged: bool | None = None


@dataclass
class LabelledFrames:
    """Labels of a list of single points, in input order, failed ones left out."""

    #: The labelled frames (None when no frame was labelled).
    trajectory: Trajectory | None
    #: Position in the input list of each labelled frame.
    frame_indices: list[int] = field(default_factory=list)
    #: Position in the input list of each single point without a result.
    failed_indices: list[int] = field(default_factory=list)
    #: Energy of each labelled frame, eV.
    energies_eV: list[float] = field(default_factory=list)
    #: Labelled frames whose SCF stopped at NELM (VASP; kept, flagged for the dataset).
    n_scf_unconverged: int = 0


def _get(item: Any, key: str) -> Any:
    """``item[key]`` of a dict (a document as stored), else the attribute."""
    return item.get(key) if isinstance(item, Mapping) else getattr(item, key, None)


def _structure(item: Any) -> Structure:
    from pymatgen.core import Structure

    return item if isinstance(item, Structure) else Structure.from_dict(item)


def _matrix(value: Any) -> list[list[float]] | None:
    return None if value is None else [[float(x) for x in row] for row in value]


def frame_label(doc: Any) -> FrameLabel:
    """Energy, forces and stress of a single-point task document (object or stored dict).

    Parameters
    ----------
    doc
        emmet ``TaskDoc`` (VASP: the last ionic step of ``calcs_reversed[0]``) or atomate2
        ``ForceFieldTaskDocument`` (its ``output``).
    """
    calcs = _get(doc, "calcs_reversed")
    if calcs:
        calc_output = _get(calcs[0], "output")
        step = _get(calc_output, "ionic_steps")[-1]
        electronic_steps = _get(step, "electronic_steps")
        converged = None
        if electronic_steps:
            parameters = _get(_get(calcs[0], "input"), "parameters") or {}
            nelm = int(parameters.get("NELM", VASP_DEFAULT_NELM))
            converged = scf_converged([len(electronic_steps)], nelm)[0]
        return FrameLabel(
            structure=_structure(_get(step, "structure")),
            energy_eV=float(_get(step, "e_fr_energy")),
            forces_eV_A=_matrix(_get(step, "forces")),
            stress_kBar=_matrix(_get(step, "stress")),
            scf_converged=converged,
        )
    output = _get(doc, "output")
    if output is None or _get(output, "energy") is None or _get(output, "forces") is None:
        raise ValueError(f"{type(doc).__name__}: no single-point energy and forces")
    # atomate2's force-field output: stress already 3×3 kBar with VASP's sign.
    structure = _get(output, "structure") or _get(doc, "structure")
    return FrameLabel(
        structure=_structure(structure),
        energy_eV=float(_get(output, "energy")),
        forces_eV_A=_matrix(_get(output, "forces")),
        stress_kBar=_matrix(_get(output, "stress")),
    )


def labels_to_trajectory(docs: Sequence[Any | None]) -> LabelledFrames:
    """One ``Trajectory`` of the labelled frames of ``docs`` (None: a failed single point).

    ``frame_properties`` hold ``energy`` (eV), ``forces`` (eV/Å), ``stress`` (kBar, VASP's
    sign; left out unless every frame has one) and, where known, ``electronic_converged``.
    The lattice may change from frame to frame; the species, in order, may not (one
    trajectory per system).
    """
    from pymatgen.core.trajectory import Trajectory

    labels, indices, failed = [], [], []
    for i, doc in enumerate(docs):
        if doc is None:
            failed.append(i)
            continue
        labels.append(frame_label(doc))
        indices.append(i)
    if not labels:
        return LabelledFrames(None, failed_indices=failed)
    species = [site.species_string for site in labels[0].structure]
    for i, label in zip(indices, labels, strict=True):
        if [site.species_string for site in label.structure] != species:
            raise ValueError(
                f"frame {i}: species differ from frame {indices[0]}'s; label each system apart"
            )
    with_stress = all(label.stress_kBar is not None for label in labels)
    properties = []
    for label in labels:
        frame: dict[str, Any] = {"energy": label.energy_eV, "forces": label.forces_eV_A}
        if with_stress:
            frame["stress"] = label.stress_kBar
        if label.scf_converged is not None:
            frame[CONVERGED_KEYS[0]] = label.scf_converged
        properties.append(frame)
    trajectory = Trajectory.from_structures(
        [label.structure for label in labels], frame_properties=properties, constant_lattice=False
    )
    return LabelledFrames(
        trajectory=trajectory,
        frame_indices=indices,
        failed_indices=failed,
        energies_eV=[label.energy_eV for label in labels],
        n_scf_unconverged=sum(label.scf_converged is False for label in labels),
    )
