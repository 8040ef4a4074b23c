"""Build the Flow of a study from its validated spec."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litcl_flows.flows.spec import StepResources, StudySpec
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

if TYPE_CHECKING:
    from jobflow import Flow, Job


def build_study_flow(spec: StudySpec) -> Flow:
    """The study's jobflow Flow; every job carries ``metadata.study`` for queries."""
    from jobflow import Flow

    from litcl_flows.makers.reference import reference_relax_maker

    structure = order_by_majority_occupancy(load_structure(spec.material.structure))
    relax = reference_relax_maker(
        spec.reference_engine,
        hubbard_u_eV={},
        fmax_eV_A=spec.relax.fmax_eV_A,
        max_steps=spec.relax.max_steps,
        relax_cell=spec.relax.relax_cell,
    ).make(structure)
    _route(relax, spec.resources.relax)
    flow = Flow([relax], output=relax.output, name=spec.name)
    flow.update_metadata(
        {
            "study": spec.name,
            "material": structure.composition.reduced_formula,
            "reference_engine": spec.reference_engine,
        }
    )
    return flow


def _route(job: Job, resources: StepResources) -> None:
    """Send a job to a worker class: FireWorks reads these keys from the Firework spec."""
    manager_config = {"_category": resources.category}
    if resources.fworker:
        manager_config["_fworker"] = resources.fworker
    job.update_config({"manager_config": manager_config})


def build_study_workflow(spec: StudySpec):  # -> fireworks.Workflow (imported lazily)
    """The study as a FireWorks Workflow, with no JobStore serialised into it.

    ``store=None`` keeps credentials out of the launchpad: workers find the JobStore
    through their own ``JOBFLOW_CONFIG_FILE`` (STACK.md §8.2).
    """
    from jobflow.managers.fireworks import flow_to_workflow

    workflow = flow_to_workflow(build_study_flow(spec), store=None)
    workflow.metadata.update({"study": spec.name})
    return workflow
