"""Every real VASP error output in ``data/vasp_errors`` is caught by the Makers' custodian handlers.

The files are custodian's own test fixtures (real VASP stdout/OUTCAR text); each maps to the
``VaspErrorHandler`` error key that custodian then corrects.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from atomate2.vasp.run import DEFAULT_HANDLERS
from custodian.vasp.handlers import VaspErrorHandler

from litcl_flows.makers.reference import reference_aimd_maker, reference_relax_maker
from litcl_flows.structures.library import load_structure, order_by_majority_occupancy

ERRORS_DIR = Path(__file__).parent / "data" / "vasp_errors"
#: File → custodian VaspErrorHandler error key (data/README.md).
EXPECTED_ERROR = {
    "vasp.edddav2": "edddav",
    "vasp.zbrent": "zbrent",
    "vasp.eddrmm": "eddrmm",
    "vasp.subspace": "subspacematrix",
    "vasp.pssyevx": "pssyevx",
    "vasp.posmap": "posmap",
    "vasp.too_few_bands_round_error": "too_few_bands",
}


def _error_handler(maker) -> VaspErrorHandler:
    """The VaspErrorHandler a VASP Maker runs under (atomate2's defaults unless overridden)."""
    handlers = maker.run_vasp_kwargs.get("handlers", DEFAULT_HANDLERS)
    return next(h for h in handlers if isinstance(h, VaspErrorHandler))


def test_every_error_file_has_an_expected_key() -> None:
    assert sorted(p.name for p in ERRORS_DIR.iterdir()) == sorted(EXPECTED_ERROR)


@pytest.mark.parametrize("engine_maker", ["relax", "aimd"])
@pytest.mark.parametrize("file_name", sorted(EXPECTED_ERROR))
def test_handler_catches_error(engine_maker: str, file_name: str, tmp_path: Path) -> None:
    if engine_maker == "relax":
        maker = reference_relax_maker("vasp", double_relax=False, walltime_s=3600)
    else:
        maker = reference_aimd_maker("vasp", temperature_K=600.0, n_steps=10, walltime_s=3600)
    assert maker.run_vasp_kwargs["wall_time"] == 3600  # adds custodian's WalltimeHandler
    # The handler reads the INCAR of the run: write the one the Maker would write.
    cell = order_by_majority_occupancy(load_structure("li3ticl6"))
    maker.input_set_generator.get_input_set(cell, potcar_spec=True).incar.write_file(
        tmp_path / "INCAR"
    )
    handler = _error_handler(maker)
    shutil.copy(ERRORS_DIR / file_name, tmp_path / handler.output_filename)
    assert handler.check(str(tmp_path))
    assert EXPECTED_ERROR[file_name] in handler.errors
