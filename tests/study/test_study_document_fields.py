"""Issue 16, item 6: documents like emmet's. Every field of every stored document has a
description, and every stored document carries ``last_updated``, ``versions``,
``formula_pretty`` and ``chemsys``, filled by the Makers that build it."""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import typing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from monty.json import MontyDecoder, MontyEncoder, jsanitize
from pydantic import BaseModel
from pymatgen.core import Lattice, Structure

import litcl_flows
import litcl_flows.schemas
from litcl_flows.schemas.base import material_fields
from litcl_flows.schemas.deepmd import DeepmdDatasetDocument, DeepmdTrainingDocument
from litcl_flows.schemas.labelling import LabelledFramesDocument
from litcl_flows.schemas.lammps import LammpsMDDocument
from litcl_flows.schemas.learning import ConcurrentLearningDocument
from litcl_flows.schemas.neb import HopBarrierDoc, NebBarrierTable
from litcl_flows.schemas.reference import ForceFieldReferenceTaskDoc, VaspReferenceTaskDoc
from litcl_flows.schemas.study import (
    ArrheniusDocument,
    TransportRunDocument,
    TransportStudyDocument,
)

PACKAGE = Path(litcl_flows.__file__).parent

#: Every document a litcl job returns as its output (what lands in ``output`` in the store).
#: A new job output schema goes here: test_the_list_is_complete finds those missing.
STORED_DOCUMENTS: tuple[type[BaseModel], ...] = (
    VaspReferenceTaskDoc,
    ForceFieldReferenceTaskDoc,
    DeepmdDatasetDocument,
    DeepmdTrainingDocument,
    LabelledFramesDocument,
    ConcurrentLearningDocument,
    LammpsMDDocument,
    HopBarrierDoc,
    NebBarrierTable,
    TransportRunDocument,
    ArrheniusDocument,
    TransportStudyDocument,
)


def _models_in(annotation: object) -> list[type[BaseModel]]:
    """The pydantic models inside a field annotation (``list[X] | None`` → ``[X]``)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in _models_in(arg)]


def _reachable(model: type[BaseModel]) -> set[type[BaseModel]]:
    """``model`` and every model nested in its fields, at any depth."""
    seen: set[type[BaseModel]] = set()
    todo = [model]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        for info in current.model_fields.values():
            todo += _models_in(info.annotation)
    return seen


def _is_litcl(model: type) -> bool:
    return model.__module__.startswith("litcl_flows.")


def _schema_models() -> dict[str, type[BaseModel]]:
    """Every pydantic model defined in a module of :mod:`litcl_flows.schemas`, by name."""
    found = {}
    for info in pkgutil.iter_modules(litcl_flows.schemas.__path__):
        module = importlib.import_module(f"litcl_flows.schemas.{info.name}")
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, BaseModel)
                and value.__module__ == module.__name__
            ):
                found[name] = value
    return found


def _job_output_names() -> dict[str, set[str]]:
    """Names in ``output_schema=`` and in the return annotation of every ``@job`` function of
    the package (a grep that reads Python), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for decorator in node.decorator_list:
                call = decorator if isinstance(decorator, ast.Call) else None
                target = call.func if call else decorator
                if not (isinstance(target, ast.Name) and target.id == "job"):
                    continue
                names: set[str] = set()
                if node.returns is not None:
                    names |= {n.id for n in ast.walk(node.returns) if isinstance(n, ast.Name)}
                    if isinstance(node.returns, ast.Constant):  # a string annotation
                        names |= {
                            n.id
                            for n in ast.walk(ast.parse(str(node.returns.value)))
                            if isinstance(n, ast.Name)
                        }
                for keyword in call.keywords if call else []:
                    if keyword.arg == "output_schema":
                        names |= {n.id for n in ast.walk(keyword.value) if isinstance(n, ast.Name)}
                found.setdefault(str(path.relative_to(PACKAGE)), set()).update(names)
    return found


def test_the_list_is_complete() -> None:
    """Every schema a ``@job`` declares or returns is in STORED_DOCUMENTS, and every model of
    litcl_flows/schemas is stored, nested in a stored document, or a base of one."""
    models = _schema_models()
    outputs = _job_output_names()
    assert outputs, "no @job functions found: the scan is broken"
    for path, names in outputs.items():
        for name in names & set(models):
            assert models[name] in STORED_DOCUMENTS, f"{path}: job output {name}"
    covered = {m for doc in STORED_DOCUMENTS for m in _reachable(doc)}
    covered |= {base for doc in STORED_DOCUMENTS for base in doc.__mro__}
    missing = sorted(name for name, model in models.items() if model not in covered)
    assert not missing, f"schemas not in STORED_DOCUMENTS nor nested in one: {missing}"
    # The scan sees the jobs it should (guards the scan itself).
    assert {"TransportRunDocument", "ArrheniusDocument", "HopBarrierDoc"} <= set().union(
        *outputs.values()
    )


@pytest.mark.parametrize("document", STORED_DOCUMENTS, ids=lambda d: d.__name__)
def test_every_field_has_a_description(document: type[BaseModel]) -> None:
    """Every field of the document (inherited from emmet/atomate2 too) and of every litcl
    model nested in it. Models of emmet nested in the reference documents are emmet's own
    (``SymmetryData.version`` and ``BaderAnalysis`` have none upstream) and are not checked."""
    missing = [
        f"{model.__name__}.{name}"
        for model in _reachable(document)
        if model is document or _is_litcl(model)
        for name, info in model.model_fields.items()
        if not (info.description or "").strip()
    ]
    assert not missing, f"fields without a description: {missing}"


@pytest.mark.parametrize("document", STORED_DOCUMENTS, ids=lambda d: d.__name__)
def test_every_document_carries_emmets_metadata(document: type[BaseModel]) -> None:
    fields = document.model_fields
    for name in ("last_updated", "versions", "formula_pretty", "chemsys"):
        assert name in fields, name
    assert fields["last_updated"].annotation is datetime


def _run(**extra: object) -> TransportRunDocument:
    return TransportRunDocument(
        study="s", hubbard_u_eV={"Ti": 4.0}, temperature_K=600.0, completed=False, md_uuid="m"
    ).model_copy(update=extra)


def test_defaults_utc_now_and_the_versions_that_built_it() -> None:
    before = datetime.now(UTC)
    run = _run()
    assert before <= run.last_updated <= datetime.now(UTC)
    assert run.last_updated.tzinfo is not None
    assert set(run.versions) == {"litcl_flows", "pymatgen"}
    assert run.versions["litcl_flows"] == litcl_flows.__version__
    assert (run.formula_pretty, run.chemsys) == (None, None)


def test_last_updated_reads_back_from_every_stored_form() -> None:
    """As jobflow stores it (a datetime; MongoDB gives it back naive, in UTC), as JSON (ISO
    string) and as monty's datetime dict (a FireWorks spec)."""
    run = _run()
    stamp = run.last_updated
    stored = jsanitize(run, strict=True, enum_values=True, allow_bson=True)
    assert stored["@class"] == "TransportRunDocument" and stored["last_updated"] == stamp
    naive = stored | {"last_updated": stamp.replace(tzinfo=None)}
    as_json = run.model_dump(mode="json")
    monty = json.loads(json.dumps(stored, cls=MontyEncoder))
    assert isinstance(monty["last_updated"], dict)
    for form in (stored, naive, as_json, monty):
        assert TransportRunDocument.model_validate(form).last_updated == stamp
    assert MontyDecoder().process_decoded(monty).last_updated == stamp


def test_formula_and_chemsys_are_emmets() -> None:
    from emmet.core.structure import StructureMetadata

    structure = Structure(
        Lattice.cubic(5.0),
        ["Li", "Li", "Li", "Ti", *["Cl"] * 6],
        [[i / 10, 0, 0] for i in range(10)],
    )
    emmet = StructureMetadata.from_structure(structure)
    assert material_fields(structure) == {
        "formula_pretty": emmet.formula_pretty,
        "chemsys": emmet.chemsys,
    }
    assert material_fields("Li6Ti2Cl12") == {"formula_pretty": "Li3TiCl6", "chemsys": "Cl-Li-Ti"}
    assert material_fields({"Li": 48, "Ti": 16, "Cl": 96})["formula_pretty"] == "Li3TiCl6"
    assert material_fields(None) == {"formula_pretty": None, "chemsys": None}


def test_documents_named_by_a_formula_fill_formula_and_chemsys() -> None:
    study = TransportStudyDocument(
        study="s",
        material="Li3InCl6",
        profile="demo",
        reference_engine="chgnet",
        is_stand_in=True,
        mobile_species="Li",
        spec={},
        branches=[],
        comparison=[],
    )
    assert (study.formula_pretty, study.chemsys) == ("Li3InCl6", "Cl-In-Li")
    table = NebBarrierTable(formula="Li3TiCl6", rows=[])
    assert (table.formula_pretty, table.chemsys) == ("Li3TiCl6", "Cl-Li-Ti")
    # Given values win; an unreadable formula leaves them unset instead of failing.
    given = NebBarrierTable(formula="Li3TiCl6", rows=[], formula_pretty="X", chemsys="Y")
    assert (given.formula_pretty, given.chemsys) == ("X", "Y")
    assert NebBarrierTable(formula="not a formula", rows=[]).chemsys is None


def test_analysis_jobs_carry_the_md_cells_material() -> None:
    from litcl_flows.makers.study import analyze_run, fit_branch_arrhenius

    md = {"completed": False, "n_steps_done": 10, "n_steps_requested": 100}
    md |= {"formula_pretty": "Li3TiCl6", "chemsys": "Cl-Li-Ti"}
    md_doc = LammpsMDDocument.model_construct(**md)
    run = analyze_run.original(md_doc, "m", "s", {"Ti": 4.0}, 600.0, None, 600.0, "Li", {})
    assert (run.formula_pretty, run.chemsys, run.completed) == ("Li3TiCl6", "Cl-Li-Ti", False)
    lost = analyze_run.original(None, "m", "s", {"Ti": 4.0}, 600.0, None, 600.0, "Li", {})
    assert (lost.formula_pretty, lost.chemsys) == (None, None)
    fit = fit_branch_arrhenius.original(
        [None, lost, run], ["a", "b", "c"], [500.0, 600.0, 700.0], "s", {"Ti": 4.0}, "sigma", 298.15
    )
    assert (fit.formula_pretty, fit.chemsys) == ("Li3TiCl6", "Cl-Li-Ti")
    assert not fit.completed


def test_lammps_document_reads_the_md_cell_from_its_data_file(tmp_path: Path) -> None:
    from litcl_flows.engines.lammps.inputs import DATA_FILE, write_data_file
    from litcl_flows.engines.lammps.outputs import data_file_composition, lammps_version

    structure = Structure(
        Lattice.cubic(9.0),
        ["Li"] * 6 + ["In"] * 2 + ["Cl"] * 12,
        [[i / 20, (i % 3) / 3, (i % 5) / 5] for i in range(20)],
    )
    elements = write_data_file(structure, tmp_path / DATA_FILE)
    counts = data_file_composition(tmp_path, elements)
    assert counts == {"Li": 6, "In": 2, "Cl": 12}
    assert material_fields(counts) == {"formula_pretty": "Li3InCl6", "chemsys": "Cl-In-Li"}
    assert lammps_version(tmp_path) == {}
    (tmp_path / "lammps.out").write_text("LAMMPS (22 Jul 2025 - Update 2)\nOMP_NUM_THREADS\n")
    assert lammps_version(tmp_path) == {"lammps": "22 Jul 2025 - Update 2"}


def test_dataset_material_from_the_written_systems(tmp_path: Path) -> None:
    from litcl_flows.makers.deepmd import dataset_material

    def system(name: str, type_map: list[str], types: list[int]) -> str:
        folder = tmp_path / name
        folder.mkdir(parents=True)
        (folder / "type_map.raw").write_text("\n".join(type_map) + "\n")
        (folder / "type.raw").write_text("\n".join(map(str, types)) + "\n")
        return name

    one = system("train/sys_000", ["Li", "Ti", "Cl"], [0, 0, 0, 1, *[2] * 6])
    two = system("valid/sys_000", ["Li", "Ti", "Cl"], [0] * 6 + [1] * 2 + [2] * 12)
    assert dataset_material(tmp_path, [one, two]) == {
        "formula_pretty": "Li3TiCl6",
        "chemsys": "Cl-Li-Ti",
    }
    other = system("train/sys_001", ["Li", "In", "Cl"], [0, 0, 0, 1, *[2] * 6])
    assert dataset_material(tmp_path, [one, other]) == {
        "formula_pretty": None,
        "chemsys": "Cl-In-Li-Ti",
    }


def test_transport_documents_say_why_the_md_stopped() -> None:
    """The run-length verdicts of the LAMMPS document reach the transport document."""
    from litcl_flows.makers.study import analyze_run
    from litcl_flows.schemas.lammps import RunLengthRecord

    def run(**md: object) -> TransportRunDocument:
        md_doc = LammpsMDDocument.model_construct(
            completed=False, n_steps_done=10, n_steps_requested=100, **md
        )
        return analyze_run.original(md_doc, "m", "s", {"Ti": 4.0}, 600.0, None, 600.0, "Li", {})

    verdicts = [
        RunLengthRecord(step=600, length_ps=0.4, reason="continue", explanation="too short"),
        RunLengthRecord(
            step=1000, length_ps=0.8, reason="converged", explanation="converged at 0.8 ps: …"
        ),
    ]
    converged = run(run_length=verdicts, stop_reason="converged")
    assert converged.stop_reason == "converged"
    assert converged.stop_explanation == "converged at 0.8 ps: …"
    assert (converged.stop_length_ps, converged.n_run_length_verdicts) == (0.8, 2)
    fixed = run()
    assert (fixed.stop_reason, fixed.stop_explanation, fixed.n_run_length_verdicts) == (
        "fixed_length",
        None,
        0,
    )
    lost = analyze_run.original(None, "m", "s", {"Ti": 4.0}, 600.0, None, 600.0, "Li", {})
    assert lost.stop_reason is None
