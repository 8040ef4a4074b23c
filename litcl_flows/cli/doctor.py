"""``litcl doctor``: check the launchpad, JobStore, GridFS, indexes and credentials."""

from __future__ import annotations

import click

from litcl_flows.cli.output import one_line_errors, print_json, print_table


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the checks as JSON.")
@one_line_errors
def doctor(as_json: bool) -> None:
    """Check every piece of this home's state and say what to fix; exit 1 if one fails.

    Config files, which FW_config.yaml FireWorks reads, credentials, the launchpad, the
    JobStore, its data (GridFS) store and the query indexes, each on its own.
    """
    from litcl_flows.settings import load_settings
    from litcl_flows.store.doctor import run_checks

    checks = run_checks(load_settings())
    rows = [{"check": c.name, "ok": c.ok, "detail": c.detail} for c in checks]
    if as_json:
        print_json(rows)
    else:
        for row in rows:
            row["ok"] = "ok" if row["ok"] else "FAILED"
        print_table("litcl doctor", rows, ["check", "ok", "detail"])
    if not all(c.ok for c in checks):
        raise SystemExit(1)
