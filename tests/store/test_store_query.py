"""`litcl query` by property, study, material, U and temperature; the JobStore's indexes; and
the examples of docs/query.md, all against synthetic study documents built from the schemas,
in the embedded store (montydb) and in a MongoDB-mode store on mongomock."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from monty.json import jsanitize
from pydantic import BaseModel

from litcl_flows.schemas.study import (
    ArrheniusDocument,
    BranchSummary,
    ComparisonRow,
    TransportRunDocument,
    TransportStudyDocument,
)
from litcl_flows.settings import LitclSettings, load_settings
from litcl_flows.store.config import job_store, job_store_spec
from litcl_flows.store.indexes import ensure_indexes
from litcl_flows.store.query import PROPERTIES, parse_where, query_outputs, query_properties

REPO = Path(__file__).resolve().parents[2]
STUDY = "li3ticl6-paper"  # the name docs/query.md's examples use
OTHER = "li3incl6-test"
MSD = {
    "time_ps": [0.0, 1.0, 2.0],
    "self_A2": [0.0, 1.5, 3.1],
    "total_A2": [0.0, 1.2, 2.6],
    "distinct_A2": [0.0, -0.3, -0.5],
}
#: (U of Ti, T) → σ, mS/cm; σ at 1000 K with U = 4 is a failed run.
SIGMA = {(0.0, 600.0): 0.5, (0.0, 800.0): 1.4, (4.0, 600.0): 0.7, (4.0, 800.0): 1.9}
FIT = {0.0: (0.31, 0.02, 0.9, [0.5, 1.6]), 4.0: (0.28, 0.03, 1.1, [0.6, 2.0])}
#: Ea of OTHER's one Arrhenius fit (uuid "other-fit"), eV.
OTHER_EA = 0.25
#: What the material-aware documents of each study record (as emmet names them).
FORMULA = {STUDY: ("Li3TiCl6", "Cl-Li-Ti"), OTHER: ("Li3InCl6", "Cl-In-Li")}


def _low_ea(limit_eV: float) -> list[tuple[float, str]]:
    """(Ea, uuid) of the Arrhenius fits below ``limit_eV``, lowest Ea first, from the values
    written (not from a query)."""
    fits = {f"fit-{u:g}": ea for u, (ea, *_) in FIT.items()} | {"other-fit": OTHER_EA}
    return sorted((ea, uuid) for uuid, ea in fits.items() if ea < limit_eV)


def _low_ea_uuids(limit_eV: float) -> list[str]:
    return sorted(uuid for _, uuid in _low_ea(limit_eV))


def _label(u: float) -> str:
    return f"U(Ti)={u:g}" if u else "U=0"


def _run(study: str, u_set: dict[str, float], temperature_K: float, sigma: float | None):
    values: dict[str, Any] = {}
    if sigma is not None:
        values = {
            "D_self_cm2_s": sigma * 1e-6,
            "D_self_stderr_cm2_s": sigma * 1e-7,
            "D_total_cm2_s": sigma * 2e-6,
            "D_total_stderr_cm2_s": sigma * 4e-7,
            "haven_ratio": 0.5,
            "haven_ratio_stderr": 0.1,
            "conductivity_mS_cm": sigma,
            "conductivity_stderr_mS_cm": sigma / 10,
            "msd": MSD,
        }
    formula, chemsys = FORMULA[study]
    return TransportRunDocument(
        formula_pretty=formula,
        chemsys=chemsys,
        study=study,
        hubbard_u_eV=u_set,
        temperature_K=temperature_K,
        completed=sigma is not None,
        failure_reason=None if sigma is not None else "lammps: lost atoms",
        md_uuid=f"md-{u_set}-{temperature_K:g}",
        **values,
    )


def _job(uuid: str, name: str, output: BaseModel | dict, study: str = STUDY) -> dict[str, Any]:
    """A job document as jobflow stores it: the output serialised as ``Job.run`` does (a
    schema document gains ``@module`` and ``@class``)."""
    return {
        "uuid": uuid,
        "index": 1,
        "name": name,
        "hosts": [],
        "metadata": {"study": study, "material": FORMULA[study][0], "reference_engine": "chgnet"},
        "output": jsanitize(output, strict=True, enum_values=True, allow_bson=True),
    }


def _study_jobs() -> list[dict[str, Any]]:
    """Relaxation, transport runs (one failed), Arrhenius fits and the study document of
    STUDY, and one run of another study and material."""
    runs = {key: _run(STUDY, {"Ti": key[0]}, key[1], sigma) for key, sigma in SIGMA.items()}
    runs[(4.0, 1000.0)] = _run(STUDY, {"Ti": 4.0}, 1000.0, None)
    jobs = [
        _job(
            "relax-4",
            "relax U(Ti)=4",
            {
                "@module": "litcl_flows.schemas.reference",
                "@class": "ForceFieldReferenceTaskDoc",
                "formula_pretty": "Li3TiCl6",
                "chemsys": "Cl-Li-Ti",
                "output": {"energy": -100.0, "energy_per_atom": -10.0},
            },
        )
    ]
    jobs += [
        _job(f"run-{u:g}-{t:g}", f"transport analysis {_label(u)} {t:g}K", run)
        for (u, t), run in runs.items()
    ]
    fits = {
        u: ArrheniusDocument(
            study=STUDY,
            hubbard_u_eV={"Ti": u},
            completed=True,
            form="sigma",
            temperatures_K=[600.0, 800.0],
            conductivities_mS_cm=[SIGMA[(u, 600.0)], SIGMA[(u, 800.0)]],
            conductivity_stderrs_mS_cm=[SIGMA[(u, 600.0)] / 10, SIGMA[(u, 800.0)] / 10],
            run_uuids=[f"md-{u:g}-600", f"md-{u:g}-800"],
            activation_energy_eV=ea,
            activation_energy_stderr_eV=ea_err,
            conductivity_298K_mS_cm=sigma_298,
            conductivity_298K_interval_mS_cm=interval,
            formula_pretty=FORMULA[STUDY][0],
            chemsys=FORMULA[STUDY][1],
        )
        for u, (ea, ea_err, sigma_298, interval) in FIT.items()
    }
    jobs += [_job(f"fit-{u:g}", f"arrhenius {_label(u)}", fit) for u, fit in fits.items()]
    summary = TransportStudyDocument(
        study=STUDY,
        material="Li3TiCl6",
        profile="paper",
        reference_engine="chgnet",
        is_stand_in=True,
        mobile_species="Li",
        spec={},
        branches=[
            BranchSummary(
                hubbard_u_eV={"Ti": u},
                hubbard_u_applied=False,
                relax_uuid="relax-4",
                aimd_uuids=[],
                runs=[
                    run.model_copy(update={"msd": None}) for (ru, _), run in runs.items() if ru == u
                ],
                arrhenius=fit,
                arrhenius_uuid=f"fit-{u:g}",
            )
            for u, fit in fits.items()
        ],
        comparison=[
            ComparisonRow(
                quantity="activation_energy_eV",
                hubbard_u_eV={"Ti": u},
                ours=fit.activation_energy_eV,
                ours_stderr=fit.activation_energy_stderr_eV,
                study=0.29,
                experiment=0.32,
                engine="chgnet",
                stand_in=True,
                source_uuid=f"fit-{u:g}",
            )
            for u, fit in fits.items()
        ],
        versions={},
    )
    jobs.append(_job("study", "transport study", summary))
    jobs.append(
        _job("other-800", "transport analysis U=0 800K", _run(OTHER, {}, 800.0, 2.5), OTHER)
    )
    other_fit = ArrheniusDocument(
        study=OTHER,
        hubbard_u_eV={},
        completed=True,
        form="sigma",
        temperatures_K=[800.0],
        conductivities_mS_cm=[2.5],
        conductivity_stderrs_mS_cm=[0.25],
        run_uuids=["md-{}-800"],
        activation_energy_eV=OTHER_EA,
        formula_pretty=FORMULA[OTHER][0],
        chemsys=FORMULA[OTHER][1],
    )
    jobs.append(_job("other-fit", "arrhenius U=0", other_fit, OTHER))
    for second, job in enumerate(jobs):
        job["completed_at"] = f"2025-01-01T00:00:{second:02d}"
    return jobs


JOBS = _study_jobs()


def _write(settings: LitclSettings) -> None:
    store = job_store(settings)
    store.connect()
    store.update(JOBS, save={"data": ["msd", "rdf", "hop_traces"]})
    store.close()


@pytest.fixture
def embedded(litcl_home: Path) -> LitclSettings:
    """The embedded JobStore (MontyStore, sqlite) of ``litcl_home``, holding :data:`JOBS`."""
    settings = load_settings()
    _write(settings)
    return settings


@pytest.fixture
def mongo_server(monkeypatch: pytest.MonkeyPatch):
    """One mongomock server behind every MongoClient maggma opens (MongoStore, GridFSStore)."""
    import maggma.stores.gridfs
    import maggma.stores.mongolike
    import mongomock_ng
    from mongomock_ng.gridfs import enable_gridfs_integration
    from mongomock_ng.store import ServerStore

    class Client(mongomock_ng.MongoClient):
        def close(self) -> None:
            """Keep the data, as a server does (mongomock's close empties its store)."""

    enable_gridfs_integration()
    server = ServerStore()

    def client(*args: Any, **kwargs: Any) -> mongomock_ng.MongoClient:
        return Client(_store=server)

    monkeypatch.setattr(maggma.stores.mongolike, "MongoClient", client)
    monkeypatch.setattr(maggma.stores.gridfs, "MongoClient", client)
    return client


@pytest.fixture
def mongo(litcl_home: Path, mongo_server: Callable) -> LitclSettings:
    """MongoDB-mode settings whose JobStore (MongoStore + GridFS) holds :data:`JOBS`."""
    settings = load_settings(mode="mongodb")
    _write(settings)
    return settings


@pytest.fixture(params=["embedded", "mongo"])
def store_settings(request: pytest.FixtureRequest) -> LitclSettings:
    return request.getfixturevalue(request.param)


def _outputs(name_prefix: str, study: str = STUDY) -> list[dict[str, Any]]:
    return [
        job
        for job in JOBS
        if job["name"].startswith(name_prefix) and job["metadata"]["study"] == study
    ]


def _expected_row(job: dict[str, Any], columns: list[str]) -> dict[str, Any]:
    output = job["output"]
    return {
        "study": job["metadata"]["study"],
        "material": job["metadata"]["material"],
        "hubbard_u_eV": output["hubbard_u_eV"],
        "temperature_K": output.get("temperature_K"),
        **{column: output.get(column) for column in columns},
        "engine": "chgnet",
        "job": job["name"],
        "uuid": job["uuid"],
    }


def test_known_properties_are_the_schemas_transport_keys() -> None:
    assert PROPERTIES == {
        "D_self_cm2_s": "D_self_stderr_cm2_s",
        "D_total_cm2_s": "D_total_stderr_cm2_s",
        "haven_ratio": "haven_ratio_stderr",
        "conductivity_mS_cm": "conductivity_stderr_mS_cm",
        "conductivity_self_mS_cm": "conductivity_self_stderr_mS_cm",
        "activation_energy_eV": "activation_energy_stderr_eV",
        "conductivity_298K_mS_cm": "conductivity_298K_interval_mS_cm",
    }


def test_run_property_rows_with_stderr(store_settings: LitclSettings) -> None:
    rows = query_properties(store_settings, ["conductivity_mS_cm"], study=STUDY)
    runs = sorted(
        _outputs("transport analysis"),
        key=lambda job: (job["output"]["hubbard_u_eV"]["Ti"], job["output"]["temperature_K"]),
    )
    columns = ["conductivity_mS_cm", "conductivity_stderr_mS_cm"]
    assert rows == [_expected_row(job, columns) for job in runs]
    assert [(r["hubbard_u_eV"]["Ti"], r["temperature_K"]) for r in rows] == [
        (0.0, 600.0),
        (0.0, 800.0),
        (4.0, 600.0),
        (4.0, 800.0),
        (4.0, 1000.0),
    ]
    failed = rows[-1]
    assert failed["conductivity_mS_cm"] is None and failed["uuid"] == "run-4-1000"
    assert rows[3]["conductivity_stderr_mS_cm"] == pytest.approx(0.19)


def test_arrhenius_and_run_properties_together(store_settings: LitclSettings) -> None:
    rows = query_properties(
        store_settings,
        ["activation_energy_eV", "conductivity_298K_mS_cm", "haven_ratio"],
        study=STUDY,
        hubbard_u_eV={"Ti": 4.0},
    )
    assert [row["uuid"] for row in rows] == ["run-4-600", "run-4-800", "run-4-1000", "fit-4"]
    fit = rows[-1]
    assert fit["temperature_K"] is None and fit["haven_ratio"] is None
    assert (fit["activation_energy_eV"], fit["activation_energy_stderr_eV"]) == (0.28, 0.03)
    assert fit["conductivity_298K_mS_cm"] == 1.1
    assert fit["conductivity_298K_interval_mS_cm"] == [0.6, 2.0]
    assert rows[0]["activation_energy_eV"] is None
    assert (rows[0]["haven_ratio"], rows[0]["haven_ratio_stderr"]) == (0.5, 0.1)


def test_filters(store_settings: LitclSettings) -> None:
    def uuids(**filters: Any) -> list[str]:
        return [
            row["uuid"] for row in query_properties(store_settings, ["D_self_cm2_s"], **filters)
        ]

    assert uuids(material="Li3InCl6") == ["other-800"]
    assert uuids(study=STUDY, hubbard_u_eV={"Ti": 0.0}) == ["run-0-600", "run-0-800"]
    assert uuids(temperature_K=800.4) == ["other-800", "run-0-800", "run-4-800"]
    assert uuids(temperature_K=800.6) == []
    assert uuids(job_name="transport analysis U(Ti)=4 600K") == ["run-4-600"]
    assert len(uuids(limit=2)) == 2
    # The same filters select documents for --field.
    records = query_outputs(
        store_settings, fields=["output.temperature_K"], hubbard_u_eV={"Ti": 4.0}, temperature_K=600
    )
    assert [(r["uuid"], r["output.temperature_K"]) for r in records] == [("run-4-600", 600.0)]


@pytest.mark.parametrize(
    ("expression", "criterion"),
    [
        ("output.activation_energy_eV<0.3", {"output.activation_energy_eV": {"$lt": 0.3}}),
        ("output.temperature_K >= 800", {"output.temperature_K": {"$gte": 800}}),
        ("output.D_self_cm2_s>1e-7", {"output.D_self_cm2_s": {"$gt": 1e-7}}),
        ("output.haven_ratio<=-.5", {"output.haven_ratio": {"$lte": -0.5}}),
        ("output.@class==ArrheniusDocument", {"output.@class": {"$eq": "ArrheniusDocument"}}),
        ("name!=transport study", {"name": {"$ne": "transport study"}}),
        ("output.engine==lammps+deepmd", {"output.engine": {"$eq": "lammps+deepmd"}}),
    ],
)
def test_where_expressions_become_mongodb_criteria(
    expression: str, criterion: dict[str, Any]
) -> None:
    assert parse_where(expression) == criterion


@pytest.mark.parametrize(
    "expression", ["x~3", "x=3", "x<", "<3", "x<==3", "$where==1", "a b<3", "output.x"]
)
def test_malformed_where_is_refused(expression: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_where(expression)
    assert str(error.value) == (
        f"{expression!r}: expected PATH OP VALUE with OP one of <, <=, >, >=, ==, !="
    )


def test_where_filters_by_value(store_settings: LitclSettings) -> None:
    """Issue 16, item 6: ``where`` is ANDed with the other filters, in either store."""
    fits = query_properties(
        store_settings, ["activation_energy_eV"], where=["output.activation_energy_eV<0.3"]
    )
    assert sorted(row["uuid"] for row in fits) == _low_ea_uuids(0.3)
    assert _low_ea_uuids(0.3) == ["fit-4", "other-fit"]  # the synthetic values straddle it
    in_study = query_properties(
        store_settings,
        ["activation_energy_eV"],
        study=STUDY,
        where=["output.activation_energy_eV<0.3"],
    )
    assert [row["uuid"] for row in in_study] == ["fit-4"]
    # Two expressions on the same path, with --temperature on another.
    runs = query_properties(
        store_settings,
        ["conductivity_mS_cm"],
        where=["output.conductivity_mS_cm>0.6", "output.conductivity_mS_cm<=1.9"],
        temperature_K=800.0,
    )
    expected = sorted(
        f"run-{u:g}-{t:g}" for (u, t), sigma in SIGMA.items() if t == 800.0 and 0.6 < sigma <= 1.9
    )
    assert sorted(row["uuid"] for row in runs) == expected == ["run-0-800", "run-4-800"]
    records = query_outputs(
        store_settings,
        fields=["output.activation_energy_eV"],
        where=["output.@class==ArrheniusDocument", "metadata.material!=Li3TiCl6"],
    )
    assert [(r["uuid"], r["output.activation_energy_eV"]) for r in records] == [
        ("other-fit", OTHER_EA)
    ]
    by_chemsys = query_outputs(store_settings, fields=["name"], where=["output.chemsys==Cl-In-Li"])
    assert sorted(r["uuid"] for r in by_chemsys) == ["other-800", "other-fit"]


def test_unknown_property_is_an_error_naming_the_known_ones(embedded: LitclSettings) -> None:
    with pytest.raises(ValueError, match="unknown property conductivity_S_m; known: D_self"):
        query_properties(embedded, ["conductivity_S_m"])


def test_cli_json_table_and_errors(embedded: LitclSettings, process_env) -> None:
    def litcl(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "litcl_flows", "query", *args],
            env=process_env(COLUMNS="250"),
            capture_output=True,
            text=True,
            cwd=REPO,
        )

    args = ["--study", STUDY, "--property", "conductivity_mS_cm", "--u", "Ti=4"]
    as_json = litcl(*args, "--json")
    assert as_json.returncode == 0, as_json.stderr
    expected = query_properties(
        embedded, ["conductivity_mS_cm"], study=STUDY, hubbard_u_eV={"Ti": 4.0}
    )
    assert json.loads(as_json.stdout) == expected

    table = litcl(*args, "--temperature", "800")
    assert table.returncode == 0, table.stderr
    (line,) = [line for line in table.stdout.splitlines() if "run-4-800" in line]
    cells = [cell.strip() for cell in re.split(r"[│|]", line) if cell.strip()]
    assert cells == [STUDY, "U(Ti)=4", "800", "1.9 ± 0.19", "chgnet", "run-4-800"]
    header = next(line for line in table.stdout.splitlines() if "conductivity_mS_cm" in line)
    assert [cell.strip() for cell in re.split(r"[┃|]", header) if cell.strip()] == [
        "study",
        "U",
        "T_K",
        "conductivity_mS_cm",
        "engine",
        "uuid",
    ]

    unknown = litcl("--property", "sigma")
    assert unknown.returncode == 1
    (error,) = unknown.stderr.strip().splitlines()
    assert error.startswith("Error: unknown property sigma; known: D_self_cm2_s, ")
    assert all(name in error for name in PROPERTIES)

    bad_u = litcl("--property", "haven_ratio", "--u", "Ti:4")
    assert bad_u.returncode == 1
    assert len(bad_u.stderr.strip().splitlines()) == 1 and "Ti=4" in bad_u.stderr

    where = litcl("--property", "activation_energy_eV", "--where", "x~3")
    assert where.returncode == 1 and where.stdout == ""
    assert where.stderr.strip().splitlines() == [
        "Error: --where 'x~3': expected PATH OP VALUE with OP one of <, <=, >, >=, ==, !="
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--field", "output.nope.zzz"],
            "Error: --field output.nope.zzz: in none of the 9 matching documents",
        ),
        (["--limit", "-1"], "Error: Invalid value for '--limit': -1 is not in the range x>=0."),
        (
            ["--temperature", "nan"],
            "Error: Invalid value for '--temperature': nan is not a finite number",
        ),
    ],
)
def test_cli_refuses_fields_and_filters_it_cannot_honour(
    embedded: LitclSettings, process_env, args: list[str], message: str
) -> None:
    """Issue 20, item 6: a field no document has, or a negative limit, is not dropped."""
    result = subprocess.run(
        [sys.executable, "-m", "litcl_flows", "query", "--study", STUDY, *args],
        env=process_env(),
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert result.returncode != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines()[-1].startswith(message)


def test_ensure_indexes_on_a_mongodb_store(litcl_home: Path, mongo_server: Callable) -> None:
    """montydb (the embedded store) keeps no indexes, so they are checked on MongoDB mode's
    MongoStore + GridFSStore, served by mongomock."""
    settings = load_settings(mode="mongodb")
    store = job_store(settings)
    assert ensure_indexes(store) is store
    ensure_indexes(job_store(settings))  # idempotent
    database = mongo_server()[settings.mongo_database]
    indexes = database[settings.outputs_collection].index_information().values()
    keys = [index["key"] for index in indexes]
    assert sorted(keys) == sorted(
        [
            [("_id", 1)],
            [("metadata.study", 1)],
            [("metadata.material", 1)],
            [("name", 1)],
            [("output.@class", 1)],
            [("output.chemsys", 1)],
            [("output.hubbard_u_eV.$**", 1)],
            [("output.temperature_K", 1)],
            [("uuid", 1), ("index", 1)],
        ]
    )
    blob_indexes = database[f"{settings.data_collection}.files"].index_information().values()
    blob_keys = [index["key"] for index in blob_indexes]
    assert [("metadata.blob_uuid", 1)] in blob_keys


def test_ensure_indexes_leaves_the_embedded_store_alone(embedded: LitclSettings) -> None:
    store = job_store(embedded)
    assert ensure_indexes(store) is store
    assert store.docs_store._coll is None  # not even connected


DOC = REPO / "docs" / "query.md"


def _doc_blocks() -> dict[str, str]:
    """The code blocks of docs/query.md marked ``<!-- checked: NAME -->``, by name."""
    pattern = re.compile(r"<!-- checked: (\w+) -->\n```\w+\n(.*?)```", re.DOTALL)
    return dict(pattern.findall(DOC.read_text(encoding="utf-8")))


def test_doc_lists_every_property() -> None:
    text = DOC.read_text(encoding="utf-8")
    for name, uncertainty in PROPERTIES.items():
        assert f"| `{name}` | `{uncertainty}` |" in text


def test_doc_pymongo_and_gridfs_examples(mongo: LitclSettings, mongo_server: Callable) -> None:
    blocks = _doc_blocks()
    namespace: dict[str, Any] = {"db": mongo_server()[mongo.mongo_database]}
    exec(blocks["pymongo"], namespace)
    assert namespace["runs"] == [
        {
            "uuid": f"run-4-{t:g}",
            "output": {
                "temperature_K": t,
                "conductivity_mS_cm": sigma,
                "conductivity_stderr_mS_cm": sigma / 10 if sigma else None,
            },
        }
        for t, sigma in [(600.0, 0.7), (800.0, 1.9), (1000.0, None)]
    ]
    fits = {fit["uuid"]: fit["output"] for fit in namespace["fits"]}
    assert fits["fit-0"]["activation_energy_eV"] == 0.31
    assert fits["fit-4"]["conductivity_298K_interval_mS_cm"] == [0.6, 2.0]
    assert sorted(run["output"]["conductivity_mS_cm"] for run in namespace["fast"]) == [
        1.4,
        1.9,
        2.5,
    ]
    assert [row["source_uuid"] for row in namespace["comparison"]] == ["fit-0", "fit-4"]
    assert sorted(namespace["materials"]) == ["Li3InCl6", "Li3TiCl6"]
    # Issue 16, item 6: by schema and by value, across studies.
    low_ea = namespace["low_ea"]
    assert [(f["output"]["activation_energy_eV"], f["uuid"]) for f in low_ea] == _low_ea(0.3)
    assert {fit["metadata"]["study"] for fit in low_ea} == {STUDY, OTHER}
    assert namespace["cl_li_ti_runs"] == len(SIGMA) + 1  # STUDY's runs and its failed one
    exec(blocks["gridfs"], namespace)
    assert namespace["msd"] == MSD


def test_doc_maggma_example(mongo: LitclSettings) -> None:
    """The maggma block against the MongoDB-mode store (mongomock behind every MongoClient)."""
    namespace: dict[str, Any] = {}
    exec(_doc_blocks()["maggma"], namespace)
    assert namespace["kinds"] == sorted(
        {
            "ArrheniusDocument",
            "ForceFieldReferenceTaskDoc",
            "TransportRunDocument",
            "TransportStudyDocument",
        }
    )
    low_ea = namespace["low_ea"]
    assert [(f["output"]["activation_energy_eV"], f["uuid"]) for f in low_ea] == _low_ea(0.3)
    assert len(low_ea) == 2  # one of each study: the synthetic values straddle 0.3 eV


def test_doc_jobstore_and_pandas_examples(
    embedded: LitclSettings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    blocks = _doc_blocks()
    namespace: dict[str, Any] = {}
    exec(blocks["jobstore"], namespace)
    assert namespace["run"]["output"] == {
        "conductivity_mS_cm": 1.9,
        "conductivity_stderr_mS_cm": 0.19,
    }
    assert namespace["msd"] == MSD

    # The JOB_STORE of the jobflow.yaml that `litcl init` writes.
    config = tmp_path / "jobflow.yaml"
    config.write_text(yaml.safe_dump({"JOB_STORE": job_store_spec(embedded)}))
    monkeypatch.setenv("JOBFLOW_CONFIG_FILE", str(config))
    exec(blocks["jobflow"], namespace)
    assert namespace["n_runs"] == 6

    exec(blocks["pandas"], namespace)
    sigma = namespace["sigma"]
    assert list(sigma.columns) == [0.0, 4.0]
    assert list(sigma.index) == [600.0, 800.0, 1000.0]
    assert sigma.loc[800.0, 4.0] == 1.9 and sigma.loc[600.0, 0.0] == 0.5


def test_doc_cli_examples(embedded: LitclSettings) -> None:
    from click.testing import CliRunner

    from litcl_flows.cli.main import cli

    lines = [line for line in _doc_blocks()["cli"].splitlines() if line.strip()]
    assert len(lines) >= 4
    for line in lines:
        args = shlex.split(line, comments=True)
        assert args[0] == "litcl"
        result = CliRunner().invoke(cli, args[1:], env={"COLUMNS": "250"})
        assert result.exit_code == 0, (line, result.output)
        assert "no stored outputs match" not in result.output, line
        if "--json" in args:
            assert json.loads(result.output), line
        if "--where" in args:
            # Issue 16, item 6: the --where lines give what the synthetic values say.
            if "activation_energy_eV" in args:
                uuids = [row["uuid"] for row in json.loads(result.output)]
                assert sorted(uuids) == _low_ea_uuids(0.3), line
            else:
                expected = [f"run-{u:g}-{t:g}" for (u, t), s in SIGMA.items() if s >= 1.5]
                expected += ["other-800"]  # σ = 2.5 mS/cm
                shown = re.findall(r"\((run-[\w-]+|other-800)\)", result.output)
                assert sorted(shown) == sorted(expected) == ["other-800", "run-4-800"], line
