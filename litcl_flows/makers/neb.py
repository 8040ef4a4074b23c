"""NEB Makers for Li hop barriers along crystal directions: ML (CHGNet, DeePMD) or VASP CI-NEB.

Per hop (:class:`MLHopNebMaker`, :class:`VaspHopNebMaker`): endpoints in a supercell →
fixed-cell endpoint relaxations → IDPP images → NEB → :class:`HopBarrierDoc`. Over a cell
(:class:`NebBarriersMaker`): choose the elementary hops (by direction or all up to a length,
Li → Li vacancy and Li → empty parent sites), size the supercell, run one hop flow per hop,
then a table over the hops (``litcl report`` draws the energy profiles).

atomate2 does the NEB runs: ``ForceFieldNebFromImagesMaker`` (with a climbing image and the
improved tangent — its own default is a non-climbing ``aseneb`` band) and VASP's
``NebFromImagesMaker``. Not used: ``ForceFieldNebFromEndpointsMaker`` (broken in 0.1.5) and
``get_images_from_endpoints`` (its minimum-image interpolation is ambiguous for hops as long
as half the supercell; :func:`litcl_flows.neb.endpoints.neb_images` interpolates unwrapped).
The science (hops, supercell, endpoints, images, VASP parsing) is in :mod:`litcl_flows.neb`.
"""

from __future__ import annotations

import dataclasses
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from atomate2.forcefields.jobs import ForceFieldRelaxMaker
from atomate2.forcefields.neb import ForceFieldNebFromImagesMaker
from atomate2.vasp.jobs.base import BaseVaspMaker
from atomate2.vasp.jobs.core import RelaxMaker
from atomate2.vasp.jobs.neb import NebFromImagesMaker
from emmet.core.neb import NebResult
from emmet.core.vasp.task_valid import TaskState
from jobflow import Flow, Job, Maker, OnMissing, OutputReference, Response, job
from pymatgen.core import Structure

from litcl_flows.neb.endpoints import (
    DEFAULT_MAX_ATOMS,
    DEFAULT_MIN_IMAGE_DISTANCE_A,
    cell_charge_e,
    hop_endpoints,
    neb_images,
    vacancy_supercell,
)
from litcl_flows.neb.hops import (
    DEFAULT_LAYER_TOLERANCE_A,
    DEFAULT_MAX_HOP_LENGTH_A,
    DEFAULT_DIRECTION_TOLERANCE_deg,
    Hop,
    HopLabeller,
    Interstitial,
    enumerate_hops,
    select_hops,
    vacant_parent_sites,
)
from litcl_flows.neb.vasp_inputs import StudyNebSetGenerator, neb_set_generator
from litcl_flows.neb.vasp_outputs import vasp_neb_result
from litcl_flows.schemas.base import material_fields, package_versions
from litcl_flows.schemas.neb import BarrierTableRow, HopBarrierDoc, NebBarrierTable

#: Climbing image, improved tangent, k = 5 eV/Å² (atomate2's ASE default is climb=False, aseneb).
CLIMBING_NEB_KWARGS: dict[str, Any] = {"climb": True, "method": "improvedtangent", "k": 5.0}
#: Largest residual NEB force for a production barrier, eV/Å.
NEB_FMAX_eV_A = 0.05
#: pip package of an engine label whose package has another name (the rest: the label itself;
#: VASP is no package and is left out of the versions).
ENGINE_PACKAGES = {"deepmd": "deepmd-kit"}


@job
def hop_endpoints_job(
    structure: Structure, hop: Hop, supercell: Sequence[int]
) -> dict[str, Structure]:
    """Start and end structures of a hop (see :func:`~litcl_flows.neb.endpoints.hop_endpoints`)."""
    start, end = hop_endpoints(structure, hop, tuple(supercell))  # type: ignore[arg-type]
    return {"start": start, "end": end}


@job
def hop_images_job(
    start: Structure,
    end: Structure,
    num_images: int,
    idpp: bool,
    reference: dict[str, Structure],
) -> list[Structure]:
    """NEB images between (relaxed) endpoints, unwrapped as the unrelaxed ``reference`` pair.

    A relaxation may wrap atoms back into the cell; each atom's end position is moved to the
    periodic copy whose displacement from the start is closest to its displacement between
    the unrelaxed endpoints, so that the migrating ion still travels the hop, not its image.
    The images carry the reference's charge (a relaxation's output structure has none).
    """
    expected = reference["end"].frac_coords - reference["start"].frac_coords
    raw = end.frac_coords - start.frac_coords
    unwrapped = start.frac_coords + raw - np.round(raw - expected)
    charge = cell_charge_e(reference["start"])
    aligned = Structure(
        end.lattice, end.species, unwrapped, site_properties=end.site_properties or None
    )
    charged_start = Structure.from_sites(start.sites, charge=charge)
    return neb_images(charged_start, aligned, num_images, idpp=idpp)


def _as_list(values: Sequence[float]) -> list[float]:
    return [float(v) for v in values]


@job
def hop_barrier_doc(
    neb_result: NebResult | None,
    hop: Hop,
    engine: str,
    supercell: Sequence[int],
    climbing_image: bool,
    charge_model: str,
    formula: str | None = None,
) -> HopBarrierDoc | None:
    """Label an emmet ``NebResult`` with its hop and engine; None when the NEB failed.

    ``charge_model``: the cell's charge in words (:meth:`HopNebMaker.charge_model`);
    ``formula``: reduced formula of the host cell (``formula_pretty``, ``chemsys``).
    """
    if neb_result is None:
        return None
    energies = neb_result.energies or []
    relative = [e - energies[0] for e in energies] if energies else None
    return HopBarrierDoc(
        **material_fields(formula),
        versions=package_versions("atomate2", "emmet-core", ENGINE_PACKAGES.get(engine, engine)),
        species=hop.species,
        mechanism=hop.mechanism,
        direction_label=hop.direction_label,
        direction=list(hop.direction),
        direction_angle_deg=hop.direction_angle_deg,
        equivalent_directions=list(hop.equivalent_directions),
        hop_length_A=hop.length_A,
        crosses_layers=hop.crosses_layers,
        stacking_offset_A=hop.stacking_offset_A,
        end_site=hop.end_site,
        path_clearance_A=dict(hop.path_clearance_A),
        cell_setting=hop.cell_setting,
        study_label=hop.study_label,
        charge_model=charge_model,
        start_frac_coords=_as_list(hop.start_frac),
        end_frac_coords=_as_list(hop.end_frac),
        engine=engine,
        supercell=list(supercell),
        num_sites=len(neb_result.images[0]) if neb_result.images else 0,
        num_images=len(energies) - 2,
        climbing_image=climbing_image,
        converged=neb_result.state == TaskState.SUCCESS,
        forward_barrier_eV=neb_result.forward_barrier,
        reverse_barrier_eV=neb_result.reverse_barrier,
        highest_image_index=int(np.argmax(energies)) if energies else None,
        relative_energies_eV=relative,
        neb_result=neb_result,
    )


@job
def vasp_hop_result(
    neb_dir: str | None,
    start_energy_eV: float | None,
    end_energy_eV: float | None,
    start: Structure | None,
    end: Structure | None,
    climbing_image: bool,
) -> NebResult | None:
    """emmet ``NebResult`` of a finished VASP NEB from its image OUTCARs and the endpoints;
    None when the NEB or an endpoint relaxation failed."""
    if None in (neb_dir, start_energy_eV, end_energy_eV, start, end):
        return None
    # atomate2 records "host:/path"; the folder is read on this machine.
    return vasp_neb_result(
        neb_dir.split(":", 1)[-1],
        endpoint_energies_eV=(start_energy_eV, end_energy_eV),
        endpoint_structures=(start, end),
        climbing_image=climbing_image,
    )


@dataclass
class HopNebMaker(Maker, ABC):
    """The hop recipe shared by the engines: endpoints → relax → images → NEB → document.

    Parameters
    ----------
    name
        Job-name prefix; each job also carries the hop label.
    num_images
        Intermediate images.
    idpp
        IDPP images (else linear).
    relax_endpoints
        Relax both endpoints at fixed cell before the NEB.
    """

    name: str = "hop neb"
    num_images: int = 5
    idpp: bool = True
    relax_endpoints: bool = True

    @property
    @abstractmethod
    def engine(self) -> str:
        """Engine label stored in the documents."""

    @property
    @abstractmethod
    def climbing_image(self) -> bool:
        """Whether the NEB runs with a climbing image."""

    @abstractmethod
    def charge_model(self, mechanism: str, species: str) -> str:
        """What the NEB cell's charge is (as :func:`~litcl_flows.neb.endpoints.hop_endpoints`
        and the engine build it), in words for the document."""

    @abstractmethod
    def endpoint_relax_maker(self) -> Maker:
        """Fixed-cell relaxation of one endpoint."""

    @abstractmethod
    def neb_jobs(
        self, images: OutputReference, relax_jobs: list[Job], endpoints: OutputReference
    ) -> tuple[list[Job], OutputReference]:
        """Jobs that run the NEB on ``images`` and the reference to their ``NebResult``."""

    def make(self, structure: Structure, hop: Hop, supercell: Sequence[int]) -> Flow:
        """Flow of one hop; output :class:`HopBarrierDoc`.

        Parameters
        ----------
        structure
            The ordered (relaxed) cell.
        hop
            The hop, in that cell (from :func:`~litcl_flows.neb.hops.select_hops` or
            :func:`~litcl_flows.neb.hops.enumerate_hops`).
        supercell
            Diagonal supercell multiples (from
            :func:`~litcl_flows.neb.endpoints.vacancy_supercell`).
        """
        label = f"{self.name} {hop.direction_label} {hop.length_A:.2f}A"
        endpoints = hop_endpoints_job(structure, hop, list(supercell))
        endpoints.name = f"{label} endpoints"
        jobs: list[Job] = [endpoints]
        relax_jobs: list[Job] = []
        start, end = endpoints.output["start"], endpoints.output["end"]
        if self.relax_endpoints:
            for which in ("start", "end"):
                relax = self.endpoint_relax_maker().make(endpoints.output[which])
                relax.name = f"{label} relax {which}"
                relax_jobs.append(relax)
            start, end = (r.output.structure for r in relax_jobs)
        images = hop_images_job(start, end, self.num_images, self.idpp, endpoints.output)
        images.name = f"{label} images"
        neb_jobs, neb_result = self.neb_jobs(images.output, relax_jobs, endpoints.output)
        neb_jobs[0].name = f"{label} neb"
        doc = hop_barrier_doc(
            neb_result,
            hop,
            self.engine,
            list(supercell),
            self.climbing_image,
            self.charge_model(hop.mechanism, hop.species),
            structure.composition.reduced_formula,
        )
        doc.name = f"{label} barrier"
        # A failed hop gives None, and the table and the study still finish (FireWorks runs
        # a job after a fizzled parent only when it accepts missing inputs).
        doc.update_config({"on_missing_references": OnMissing.NONE})
        jobs += [*relax_jobs, images, *neb_jobs, doc]
        return Flow(jobs, output=doc.output, name=label)


def _engine_name(force_field_name: str | dict) -> str:
    """``"CHGNet"`` → ``"chgnet"``; an ASE calculator dict → its class name, lower case."""
    if isinstance(force_field_name, dict):
        return str(force_field_name.get("@callable", "ase")).lower()
    return str(getattr(force_field_name, "value", force_field_name)).lower()


@dataclass
class MLHopNebMaker(HopNebMaker):
    """ML NEB of one hop through ASE: CHGNet, a DeePMD model, or any ASE calculator.

    Parameters
    ----------
    force_field_name
        atomate2 force-field name (``"CHGNet"``, ``"DeepMD"``, …) or an ASE calculator as a
        monty dict (``{"@module": "ase.calculators.emt", "@callable": "EMT"}``).
    calculator_kwargs
        Calculator arguments; DeePMD needs ``{"model": <absolute path>}``.
    fmax_eV_A
        NEB force convergence, eV/Å (≤ 0.05 for production barriers).
    max_steps
        NEB optimiser (FIRE) step limit.
    neb_kwargs
        ASE ``NEB`` arguments; default climbing image, improved tangent, k = 5 eV/Å².
    endpoint_fmax_eV_A
        Endpoint relaxation force convergence, eV/Å.
    endpoint_max_steps
        Endpoint relaxation step limit.
    """

    name: str = "ml neb"
    force_field_name: str | dict = "CHGNet"
    calculator_kwargs: dict = field(default_factory=dict)
    fmax_eV_A: float = NEB_FMAX_eV_A
    max_steps: int = 500
    neb_kwargs: dict = field(default_factory=lambda: dict(CLIMBING_NEB_KWARGS))
    endpoint_fmax_eV_A: float = NEB_FMAX_eV_A
    endpoint_max_steps: int = 500

    @property
    def engine(self) -> str:
        """Force-field name, lower case."""
        return _engine_name(self.force_field_name)

    @property
    def climbing_image(self) -> bool:
        """From ``neb_kwargs["climb"]`` (ASE's default is False)."""
        return bool(self.neb_kwargs.get("climb", False))

    def charge_model(self, mechanism: str, species: str) -> str:
        """An ML potential counts no electrons."""
        return f"{self.engine}: no electrons are counted; the vacancy is the missing {species} ion"

    def endpoint_relax_maker(self) -> ForceFieldRelaxMaker:
        """atomate2's force-field relaxation of positions only (cell fixed)."""
        return ForceFieldRelaxMaker(
            force_field_name=self.force_field_name,
            calculator_kwargs=dict(self.calculator_kwargs),
            relax_cell=False,
            steps=self.endpoint_max_steps,
            relax_kwargs={"fmax": self.endpoint_fmax_eV_A},
        )

    def neb_jobs(
        self, images: OutputReference, relax_jobs: list[Job], endpoints: OutputReference
    ) -> tuple[list[Job], OutputReference]:
        """atomate2's ``ForceFieldNebFromImagesMaker``; it computes the endpoints itself."""
        neb = ForceFieldNebFromImagesMaker(
            force_field_name=self.force_field_name,
            calculator_kwargs=dict(self.calculator_kwargs),
            neb_kwargs=dict(self.neb_kwargs),
            relax_kwargs={"fmax": self.fmax_eV_A},
            steps=self.max_steps,
        ).make(images)
        return [neb], neb.output


@dataclass
class VaspHopNebMaker(HopNebMaker):
    """VASP NEB of one hop with the relaxation's DFT+U settings.

    Parameters
    ----------
    vtst
        The cluster's VASP has VTST: climbing-image NEB (``LCLIMB``, ``IOPT = 1``). False:
        plain VASP NEB without climbing image (see :mod:`litcl_flows.neb.vasp_inputs`).
    neb_maker
        atomate2 ``NebFromImagesMaker``; default one with
        :func:`~litcl_flows.neb.vasp_inputs.neb_set_generator` (``vtst`` as above).
    relax_maker
        Endpoint relaxation; default atomate2 ``RelaxMaker`` with the NEB maker's own input
        set in endpoint mode (``endpoint=True``: fixed cell, the images' PREC, EDIFF, ISYM,
        NELECT, …), so that the barrier subtracts energies of one set of electronic settings.
    """

    name: str = "vasp neb"
    vtst: bool = True
    neb_maker: NebFromImagesMaker | None = None
    relax_maker: BaseVaspMaker | None = None

    def __post_init__(self) -> None:
        """Build the default VASP Makers from the study's input sets."""
        if self.neb_maker is None:
            self.neb_maker = NebFromImagesMaker(
                input_set_generator=neb_set_generator(vtst=self.vtst)
            )
        if self.relax_maker is None:
            generator = self.neb_maker.input_set_generator
            if not isinstance(generator, StudyNebSetGenerator):
                raise ValueError(
                    "the endpoint relaxation is derived from a StudyNebSetGenerator "
                    f"(neb_set_generator), not a {type(generator).__name__}: give relax_maker"
                )
            self.relax_maker = RelaxMaker(
                input_set_generator=dataclasses.replace(generator, endpoint=True)
            )

    @property
    def engine(self) -> str:
        """``"vasp"``."""
        return "vasp"

    @property
    def climbing_image(self) -> bool:
        """True with VTST."""
        return self.vtst

    def charge_model(self, mechanism: str, species: str) -> str:
        """A vacancy cell carries the removed ion's charge; an interstitial hop's is neutral."""
        if mechanism == "vacancy":
            return (
                f"{species} ion vacancy: the cell carries the removed ion's charge (NELECT = "
                "ΣZVAL minus it, +1 for Li⁺), so no host cation changes its oxidation state"
            )
        return "neutral stoichiometric cell: the ion moves to an empty site (NELECT = ΣZVAL)"

    def endpoint_relax_maker(self) -> BaseVaspMaker:
        """The fixed-cell VASP relaxation."""
        assert self.relax_maker is not None  # set in __post_init__
        return self.relax_maker

    def neb_jobs(
        self, images: OutputReference, relax_jobs: list[Job], endpoints: OutputReference
    ) -> tuple[list[Job], OutputReference]:
        """atomate2's VASP NEB, then the barrier from its OUTCARs and the endpoint energies."""
        assert self.neb_maker is not None  # set in __post_init__
        if not relax_jobs:
            raise ValueError("a VASP NEB needs endpoint energies: keep relax_endpoints=True")
        neb = self.neb_maker.make(images)
        start, end = relax_jobs
        result = vasp_hop_result(
            neb.output.dir_name,
            start.output.output.energy,
            end.output.output.energy,
            start.output.structure,
            end.output.structure,
            self.vtst,
        )
        result.name = "vasp neb barrier"
        result.update_config({"on_missing_references": OnMissing.NONE})
        return [neb, result], result.output


@job
def barrier_table(docs: list[HopBarrierDoc | None], formula: str) -> NebBarrierTable:
    """Table over the hops that finished (``litcl report`` draws their energy profiles from
    each hop's stored document)."""
    rows = [
        BarrierTableRow(
            direction_label=doc.direction_label,
            mechanism=doc.mechanism,
            end_site=doc.end_site,
            study_label=doc.study_label,
            hop_length_A=doc.hop_length_A,
            crosses_layers=doc.crosses_layers,
            forward_barrier_eV=doc.forward_barrier_eV,
            reverse_barrier_eV=doc.reverse_barrier_eV,
            engine=doc.engine,
            converged=doc.converged,
        )
        for doc in docs
        if doc is not None
    ]
    return NebBarrierTable(formula=formula, rows=rows)


@dataclass
class NebBarriersMaker(Maker):
    """Barriers of the elementary Li hops of an ordered cell along crystal directions.

    Parameters
    ----------
    name
        Name of the planning job.
    hop_maker
        Engine of each hop: :class:`MLHopNebMaker` (default CHGNet) or :class:`VaspHopNebMaker`.
    directions
        [uvw] to compute (in the parent's basis when ``parent`` is given), the shortest hop
        along each, to a vacant Li site or to an empty site (Li3TiCl6's four elementary hop
        classes: :data:`~litcl_flows.neb.hops.LI3TICL6_HOP_DIRECTIONS`); None (default): every
        distinct hop up to ``max_hop_length_A``, whatever the conductor.
    species
        Migrating species.
    max_hop_length_A
        Longest hop considered, Å (default 4 Å: neighbouring sites only).
    parent
        The disordered structure the cell was ordered from: direction labels refer to its
        basis, and its partially occupied sites left empty in the cell are hop ends
        (``vacant_site_hops``). None: labels in the cell's own basis, no such sites.
    vacant_site_hops
        Add ion → empty parent-site hops (:func:`~litcl_flows.neb.hops.vacant_parent_sites`).
    interstitial_frac_coords
        More empty positions (fractional, input cell) for ion → interstitial hops.
    min_image_distance_A
        Smallest distance between a vacancy and its periodic images, Å.
    max_atoms
        Largest supercell allowed.
    direction_tolerance_deg
        Largest angle between a hop and its [uvw] label, °.
    plane_hkl
        Miller indices of the layer planes; the stacking direction is their normal.
    layer_tolerance_A
        Offset along the stacking normal below which a hop stays in its layer, Å.
    """

    name: str = "hop barriers"
    hop_maker: HopNebMaker = field(default_factory=MLHopNebMaker)
    directions: tuple[str, ...] | None = None
    species: str = "Li"
    max_hop_length_A: float = DEFAULT_MAX_HOP_LENGTH_A
    parent: Structure | None = None
    vacant_site_hops: bool = True
    interstitial_frac_coords: list[list[float]] | None = None
    min_image_distance_A: float = DEFAULT_MIN_IMAGE_DISTANCE_A
    max_atoms: int = DEFAULT_MAX_ATOMS
    direction_tolerance_deg: float = DEFAULT_DIRECTION_TOLERANCE_deg
    plane_hkl: tuple[int, int, int] = (0, 0, 1)
    layer_tolerance_A: float = DEFAULT_LAYER_TOLERANCE_A

    def plan(self, structure: Structure) -> tuple[list[Hop], tuple[int, int, int]]:
        """The hops and the supercell for ``structure``; one-line ``NebSetupError`` if none."""
        labeller = HopLabeller(
            structure,
            tolerance_deg=self.direction_tolerance_deg,
            plane_hkl=self.plane_hkl,
            layer_tolerance_A=self.layer_tolerance_A,
            parent=self.parent,
        )
        interstitials = [Interstitial(tuple(p)) for p in self.interstitial_frac_coords or []]
        if self.parent is not None and self.vacant_site_hops:
            interstitials += vacant_parent_sites(structure, self.parent)
        if self.directions is None:
            hops = enumerate_hops(
                structure, self.species, self.max_hop_length_A, interstitials, labeller
            )
        else:
            hops = select_hops(
                structure,
                self.directions,
                self.species,
                self.max_hop_length_A,
                labeller,
                interstitial_frac_coords=interstitials,
            )
        supercell = vacancy_supercell(structure, self.min_image_distance_A, self.max_atoms)
        return hops, supercell

    def make(self, structure: Structure | OutputReference) -> Job:
        """Job that plans the hops and replaces itself by their flows and the table.

        The output (after replacement) is a :class:`NebBarrierTable`; each hop's
        :class:`HopBarrierDoc` is the output of its own ``… barrier`` job.
        """
        planner = plan_hop_barriers(structure, self)
        planner.name = self.name
        return planner


@job
def plan_hop_barriers(structure: Structure, maker: NebBarriersMaker) -> Response:
    """Choose hops and supercell, then run one hop flow per hop and the table."""
    hops, supercell = maker.plan(structure)
    flows = [maker.hop_maker.make(structure, hop, supercell) for hop in hops]
    table = barrier_table([flow.output for flow in flows], structure.composition.reduced_formula)
    table.name = f"{maker.name} table"
    table.update_config({"on_missing_references": OnMissing.NONE})
    return Response(replace=Flow([*flows, table], output=table.output))
