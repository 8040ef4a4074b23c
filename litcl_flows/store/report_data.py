"""Everything ``litcl report`` draws, fetched from a JobStore for one study.

The study document names the jobs (uuids) whose outputs hold the arrays: DeePMD training
(learning curve, parity), transport analyses (MSD, RDF, hop traces). NEB energy profiles come
from the per-hop ``… barrier`` jobs of the study. Each output is the one of the highest job
index (a replaced job's last run).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litcl_flows.schemas.study import TransportStudyDocument

#: Job name of the study document (``flows/study.py``).
STUDY_JOB_NAME = "transport study"
#: Fields of a training output the report draws (loading only these keeps the model blobs,
#: which are also in the data store, out of memory).
TRAINING_FIELDS = ("learning_curve", "parity")
#: Fields of a transport-analysis output the report draws.
ANALYSIS_FIELDS = ("msd", "rdf", "hop_traces", "hops", "rdf_reference_temperature_K")


@dataclass(frozen=True)
class NebProfile:
    """Energy profile of one NEB hop: the image coordinate in [0, 1] and E − E(start)."""

    direction_label: str
    hop_length_A: float
    coordinate: list[float]
    energies_eV: list[float]


@dataclass
class ReportData:
    """The study document and the arrays of the jobs it names.

    Attributes
    ----------
    study
        The study's ``TransportStudyDocument``.
    trainings
        Training uuid → ``{"learning_curve", "parity"}`` of its ``DeepmdTrainingDocument``.
    analyses
        Analysis uuid → ``{"msd", "rdf", "hop_traces", "hops", "rdf_reference_temperature_K"}``
        of its output (missing when that job has no output).
    neb_profiles
        One per NEB hop that has an energy profile, in the order of ``study.neb_barriers``.
    """

    study: TransportStudyDocument
    trainings: dict[str, dict[str, Any]] = field(default_factory=dict)
    analyses: dict[str, dict[str, Any]] = field(default_factory=dict)
    neb_profiles: list[NebProfile] = field(default_factory=list)


def _output(store: Any, uuid: str, fields: tuple[str, ...]) -> dict[str, Any] | None:
    """``fields`` of a job's last output, data-store blobs loaded; None when it has none."""
    document = store.query_one(
        {"uuid": uuid},
        properties=[f"output.{name}" for name in fields],
        sort={"index": -1},
        load={"data": list(fields)},
    )
    if document is None or not isinstance(document.get("output"), dict):
        return None
    return {name: document["output"].get(name) for name in fields}


def _latest_per_uuid(documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The highest-index document of each uuid, in first-seen order."""
    latest: dict[str, dict[str, Any]] = {}
    for document in documents:
        seen = latest.get(document["uuid"])
        if seen is None or document.get("index", 1) > seen.get("index", 1):
            latest[document["uuid"]] = document
    return list(latest.values())


def _neb_profiles(store: Any, study: TransportStudyDocument) -> list[NebProfile]:
    """Energy profiles of the study's hop NEBs, the latest per direction."""
    documents = store.query(
        {"metadata.study": study.study, "name": {"$regex": "barrier$"}},
        properties=[
            "uuid",
            "index",
            "output.direction_label",
            "output.hop_length_A",
            "output.relative_energies_eV",
            "output.neb_result.barrier_analysis.frame_index",
        ],
        sort={"completed_at": 1},
    )
    by_direction: dict[str, NebProfile] = {}
    for document in _latest_per_uuid(list(documents)):
        output = document.get("output") or {}
        analysis = (output.get("neb_result") or {}).get("barrier_analysis") or {}
        energies, coordinate = output.get("relative_energies_eV"), analysis.get("frame_index")
        if not energies or not coordinate or "direction_label" not in output:
            continue
        # A rerun of the same hop (oldest first) replaces the earlier profile.
        by_direction[output["direction_label"]] = NebProfile(
            output["direction_label"],
            output.get("hop_length_A", float("nan")),
            coordinate,
            energies,
        )
    order = [row.direction_label for row in study.neb_barriers or []]
    return sorted(
        by_direction.values(),
        key=lambda p: order.index(p.direction_label) if p.direction_label in order else len(order),
    )


def load_report_data(store: Any, study: str) -> ReportData:
    """Fetch the study document of ``study`` and the arrays its figures need.

    ``store`` is a connected jobflow ``JobStore``; it is only read. The newest study document
    wins when the study was run more than once.

    Raises
    ------
    ValueError
        No study document for ``study`` (the study is unknown or has not finished).
    """
    found = store.query_one(
        {"name": STUDY_JOB_NAME, "metadata.study": study},
        properties=["uuid"],
        sort={"completed_at": -1},
    )
    if found is None:
        raise ValueError(f"no study document for {study}; is it finished? (litcl status)")
    document = TransportStudyDocument.model_validate(
        store.get_output(found["uuid"], which="last", load=True)
    )
    data = ReportData(study=document)
    for branch in document.branches:
        if branch.train_uuid and (training := _output(store, branch.train_uuid, TRAINING_FIELDS)):
            data.trainings[branch.train_uuid] = training
        for uuid in branch.analysis_uuids:
            if arrays := _output(store, uuid, ANALYSIS_FIELDS):
                data.analyses[uuid] = arrays
    if document.neb_uuid is not None:
        data.neb_profiles = _neb_profiles(store, document)
    return data
