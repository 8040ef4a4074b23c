"""The ``litcl`` command."""
