"""LAMMPS + DeePMD engine: input writer, log parser, dump helpers, custodian job/handlers.

No jobflow here (docs/architecture.md, layers): the Makers in
:mod:`litcl_flows.makers.lammps` call these.
"""

from litcl_flows.engines.lammps.custodian import (
    LammpsFatalErrorHandler,
    LammpsFinishedValidator,
    LammpsJob,
    LammpsRunError,
    LammpsUnstableHandler,
    run_lammps,
)
from litcl_flows.engines.lammps.dumps import count_frames, dump_timesteps, truncate_dump
from litcl_flows.engines.lammps.inputs import (
    LammpsMDInput,
    latest_restart,
    model_type_map,
    replicate_to_atoms,
    type_order,
    write_data_file,
    write_inputs,
)
from litcl_flows.engines.lammps.log import (
    LammpsLog,
    ThermoBlock,
    merge_md_thermo,
    parse_log,
)

__all__ = [
    "LammpsFatalErrorHandler",
    "LammpsFinishedValidator",
    "LammpsJob",
    "LammpsLog",
    "LammpsMDInput",
    "LammpsRunError",
    "LammpsUnstableHandler",
    "ThermoBlock",
    "count_frames",
    "dump_timesteps",
    "latest_restart",
    "merge_md_thermo",
    "model_type_map",
    "parse_log",
    "replicate_to_atoms",
    "run_lammps",
    "truncate_dump",
    "type_order",
    "write_data_file",
    "write_inputs",
]
