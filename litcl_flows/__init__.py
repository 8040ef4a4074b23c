"""litcl_flows: machine-learning-accelerated Li-ion transport studies as jobflow workflows."""


def __getattr__(name: str) -> str:
    # Looked up on first use: importlib.metadata costs ~20 ms of every `litcl` command.
    if name != "__version__":
        raise AttributeError(f"module 'litcl_flows' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("litcl_flows")
    except PackageNotFoundError:  # running from a source tree that was not installed
        return "0.0.0"
