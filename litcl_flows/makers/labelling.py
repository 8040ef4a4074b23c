"""Relabel frames with a reference engine: one single point per structure, then one document.

The frames are typically the candidates of an ML-MD run (model deviation between the trust
levels, :mod:`litcl_flows.engines.deepmd.trust`); their labels join the AIMD training data
through :class:`~litcl_flows.makers.deepmd.DeepmdDatasetMaker`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobflow import Flow, Maker, OnMissing, Response, job
from pymatgen.core.trajectory import Trajectory

from litcl_flows.engines.labelling import labels_to_trajectory
from litcl_flows.engines.vasp.sets import STUDY_HUBBARD_U_eV
from litcl_flows.makers.reference import ReferenceEngineName, get_reference_engine
from litcl_flows.schemas.base import material_fields, package_versions
from litcl_flows.schemas.labelling import LabelledFramesDocument

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Job name of the collection of the labels.
COLLECT_JOB_NAME = "collect labels"


@job(data=[Trajectory], output_schema=LabelledFramesDocument)
def collect_labels(task_docs: list[Any], reference_engine: str) -> LabelledFramesDocument:
    """The labelled frames of ``task_docs`` (None where a single point failed) as one document.

    Parameters
    ----------
    task_docs
        Single-point task documents in input order (VASP ``TaskDoc`` or atomate2
        force-field documents); a failed job's reference resolves to None
        (``on_missing_references = OnMissing.NONE``).
    reference_engine
        Engine name recorded in the document.
    """
    labelled = labels_to_trajectory(task_docs)
    trajectory = labelled.trajectory
    engine = get_reference_engine(reference_engine)
    return LabelledFramesDocument(
        reference_engine=engine.name,
        n_frames_requested=len(task_docs),
        n_frames_labelled=len(labelled.frame_indices),
        n_labels_failed=len(labelled.failed_indices),
        n_frames_scf_unconverged=labelled.n_scf_unconverged,
        frame_indices=labelled.frame_indices,
        failed_indices=labelled.failed_indices,
        energies_eV=labelled.energies_eV,
        objects={} if trajectory is None else {"trajectory": trajectory},
        versions=package_versions("atomate2", engine.package),
        **material_fields(None if trajectory is None else trajectory.get_structure(0)),
    )


@dataclass
class LabelFramesMaker(Maker):
    """Label structures with a reference engine's single points, then collect the labels.

    ``make(structures)`` replaces itself with one ``static_maker`` job per structure and a
    collection job (:func:`collect_labels`) whose output, a :class:`LabelledFramesDocument`,
    holds the labelled frames in ``objects["trajectory"]``. A failed single point does not
    fail the collection: it is counted (``n_labels_failed``) and left out.

    Parameters
    ----------
    name
        Job name.
    reference_engine
        Engine of the single points (:data:`~litcl_flows.makers.reference.REFERENCE_ENGINES`),
        recorded in the document.
    static_maker
        Single-point Maker; None: the engine's
        (:meth:`~litcl_flows.makers.reference.ReferenceEngine.static_maker`) with
        ``hubbard_u_eV`` and ``vasp_settings``, which should be the AIMD's so that the labels
        join its frames.
    hubbard_u_eV
        U_eff set of the engine's single points; None: the reference study's.
    vasp_settings
        Keyword arguments of the VASP static input set (the AIMD's cut-off and k-points).
    """

    name: str = "label frames"
    reference_engine: ReferenceEngineName = "vasp"
    static_maker: Maker | None = None
    hubbard_u_eV: dict[str, float] | None = None
    vasp_settings: dict[str, Any] = field(default_factory=dict)

    def single_point_maker(self) -> Maker:
        """``static_maker``, or the engine's with ``hubbard_u_eV`` and ``vasp_settings``."""
        if self.static_maker is not None:
            return self.static_maker
        u = STUDY_HUBBARD_U_eV if self.hubbard_u_eV is None else self.hubbard_u_eV
        return get_reference_engine(self.reference_engine).static_maker(u, **self.vasp_settings)

    # No output_schema: this job's uuid ends up holding a reference to the collection's output
    # (jobflow's replace), which the schema would refuse.
    @job
    def make(self, structures: list[Structure]) -> Response | LabelledFramesDocument:
        """One single point per structure and the collection; no structure: an empty document."""
        if not structures:
            return collect_labels.original([], self.reference_engine)
        maker = self.single_point_maker()
        statics = []
        for i, structure in enumerate(structures):
            static = maker.make(structure)
            static.append_name(f" {i}")
            statics.append(static)
        collect = collect_labels([static.output for static in statics], self.reference_engine)
        collect.name = COLLECT_JOB_NAME
        collect.config.on_missing_references = OnMissing.NONE
        return Response(replace=Flow([*statics, collect], output=collect.output, name=self.name))
