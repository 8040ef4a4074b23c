"""``python -m litcl_flows`` is the ``litcl`` command."""

from litcl_flows.cli.main import cli

cli()
