"""litcl_flows: machine-learning-accelerated Li-ion transport studies as jobflow workflows."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("litcl_flows")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"
