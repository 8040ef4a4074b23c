"""DeePMD-kit engine: training input, dataset conversion, custodian jobs and handlers, parsers."""

from litcl_flows.engines.deepmd.dataset import (
    DatasetReport,
    DeepmdDataError,
    check_deepmd_system,
    default_type_map,
    system_from_trajectory,
    trajectories_to_deepmd,
)
from litcl_flows.engines.deepmd.ensemble import max_force_deviation, predict_forces
from litcl_flows.engines.deepmd.inputs import DeepmdTrainingInput, write_input_json
from litcl_flows.engines.deepmd.outputs import (
    error_metrics,
    read_detail_file,
    read_lcurve,
    read_test_details,
)
from litcl_flows.engines.deepmd.run import TrainingRun, run_deepmd_training

__all__ = [
    "DatasetReport",
    "DeepmdDataError",
    "DeepmdTrainingInput",
    "TrainingRun",
    "check_deepmd_system",
    "default_type_map",
    "error_metrics",
    "max_force_deviation",
    "predict_forces",
    "read_detail_file",
    "read_lcurve",
    "read_test_details",
    "run_deepmd_training",
    "system_from_trajectory",
    "trajectories_to_deepmd",
    "write_input_json",
]
