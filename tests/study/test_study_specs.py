"""The shipped specs: the paper spec carries the study's numbers (docs/study.md), the template
shows every key at its default, and each built flow routes its steps through Firework specs."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from litcl_flows.flows.spec import RunLengthSpec, StudySpec, load_spec

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"


@pytest.fixture(scope="module")
def paper() -> StudySpec:
    return load_spec(WORKFLOWS / "li3ticl6_paper.yaml")


def test_paper_spec_carries_the_study_numbers(paper: StudySpec) -> None:
    # The reference study's numbers, one by one.
    assert paper.reference_engine == "vasp"
    assert paper.material.supercell.n_atoms == 160
    assert paper.material.supercell.site_occupancies == {"2a": {"Ti": 0.754}, "4g": {"Ti": 0.123}}
    assert sorted(u["Ti"] for u in paper.hubbard_u_eV) == [0.0, 4.0]
    assert paper.relax.encut_eV == 450
    assert paper.relax.kpoint_mesh == (4, 2, 4)
    assert paper.relax.fmax_eV_A == 0.01
    assert paper.aimd.time_step_fs == 1.0
    model = paper.deepmd.training_input(paper.profile)
    assert model.rcut_A == 7.0
    assert model.embedding_neurons == [32, 64, 128]
    assert model.fitting_neurons == [256, 256, 256]
    assert model.activation == "tanh"
    assert (model.start_lr, model.stop_lr, model.decay_steps) == (1e-3, 1e-8, 5000)
    assert model.numb_steps == 10_000
    assert (model.start_pref_v, model.limit_pref_v) == (0.0, 0.0)  # energy and force only
    assert paper.mlmd.n_atoms == 20_000
    assert paper.mlmd.temperatures_K == [298, 313, 328, 333, 358, 373]
    assert paper.mlmd.n_steps * paper.mlmd.time_step_fs == 5.5e6  # 5.5 ns in fs
    assert paper.mlmd.time_step_fs == 1.0
    assert paper.mlmd.tdamp_fs == 100.0
    assert paper.mlmd.minimize is True
    assert paper.analysis.rdf_pairs == ["Cl-Ti", "Cl-Li", "Ti-Li", "Li-Li", "Cl-Cl"]
    assert paper.neb.directions == ["[010]", "[310]", "[101]", "[013]"]  # elementary hops


def test_paper_cell_is_the_study_selected_ordering(paper: StudySpec) -> None:
    from litcl_flows.flows.study import ordered_cell

    structure, summary = ordered_cell(paper)
    assert structure.composition.reduced_formula == "Li3TiCl6"
    assert len(structure) == 160
    achieved = {
        o["orbit"]: o["achieved_occupancy"] for o in summary["occupancies"] if o["species"] == "Ti"
    }
    # 12 + 4 Ti over 16 2a + 32 4g sites: 0.750 / 0.125 (the study's cell).
    assert achieved == pytest.approx({"2a": 0.75, "4g": 0.125})


def _keys(model: type[BaseModel], prefix: str = "") -> set[str]:
    keys = set()
    for name, info in model.model_fields.items():
        keys.add(prefix + name)
        annotation = info.annotation
        for candidate in (annotation, *getattr(annotation, "__args__", ())):
            if isinstance(candidate, type) and issubclass(candidate, BaseModel):
                keys |= _keys(candidate, f"{prefix}{name}.")
    return keys


def _flatten(data: Any, prefix: str = "") -> set[str]:
    keys = set()
    if isinstance(data, dict):
        for key, value in data.items():
            keys.add(prefix + key)
            if key not in ("site_occupancies", "overrides"):
                keys |= _flatten(value, f"{prefix}{key}.")
    return keys


def _commented_run_length(text: str) -> dict[str, Any]:
    """The template's commented-out ``run_length:`` block (off by default), read as YAML."""
    block = re.search(r"^( *)# run_length:\n((?:\1#   .*\n)+)", text, flags=re.M)
    assert block, "template.yaml: no commented run_length block"
    indent = len(block.group(1)) + 2
    lines = ["run_length:", *(line[indent:] for line in block.group(2).splitlines())]
    return yaml.safe_load("\n".join(lines))


def test_template_shows_every_key_at_its_default() -> None:
    text = (WORKFLOWS / "template.yaml").read_text()
    raw = yaml.safe_load(text)
    # mlmd.run_length is off by default: its keys are shown commented out, at their defaults
    commented = _commented_run_length(text)
    shown = _flatten(raw) | _flatten({"mlmd": commented})
    assert _keys(StudySpec) - {"hubbard_u_eV"} <= shown
    assert RunLengthSpec.model_validate(commented["run_length"]) == RunLengthSpec()
    raw["material"]["structure"] = "li3ticl6"
    template = StudySpec.model_validate(raw)
    defaults = StudySpec.model_validate({"name": "x", "material": {"structure": "li3ticl6"}})
    assert template.model_dump(exclude={"name", "material"}) == defaults.model_dump(
        exclude={"name", "material"}
    )


@pytest.mark.parametrize(
    ("spec_name", "expected"),
    [
        (
            "li3ticl6_paper.yaml",
            {
                "relax": "cpu",
                "aimd": "cpu",
                "concurrent learning": "cpu",  # its training jobs: test_learning_routing
                "lammps": "gpu",
                "transport": "cpu",
                "arrhenius": "cpu",
                "hop barriers": "cpu",
            },
        ),
        (
            "li3ticl6_demo.yaml",
            {
                "relax": "cpu",
                "aimd": "cpu",
                "concurrent learning": "cpu",
                "lammps": "cpu",
                "transport": "cpu",
                "hop barriers": "cpu",
            },
        ),
    ],
)
def test_routing_is_visible_in_the_firework_specs(
    spec_name: str, expected: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """FireWorks routes by ``_category`` in each Firework's spec (issue 10)."""
    monkeypatch.setenv("LITCL_HOME", str(tmp_path))
    from litcl_flows.flows.study import build_study_workflow

    workflow = build_study_workflow(load_spec(WORKFLOWS / spec_name))
    seen = {}
    for firework in workflow.fws:
        for prefix, category in expected.items():
            if firework.name.startswith(prefix):
                assert firework.spec["_category"] == category, firework.name
                seen[prefix] = True
    assert set(seen) == set(expected)
    assert all("_category" in fw.spec for fw in workflow.fws)
    # Analysis jobs run when a parent failed (a failed temperature does not sink the study).
    allowed = {fw.name for fw in workflow.fws if fw.spec.get("_allow_fizzled_parents")}
    assert "transport study" in allowed
    assert any(name.startswith("arrhenius") for name in allowed)
