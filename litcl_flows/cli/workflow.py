"""Workflow commands: init, submit, run, status, query, and FireWorks' lpad/rlaunch."""

from __future__ import annotations

import math
import sys

import click

from litcl_flows.cli.output import (
    one_line_errors,
    print_json,
    print_table,
    stderr_console,
)


def _settings(**overrides: object):
    from litcl_flows.settings import load_settings

    return load_settings(**{key: value for key, value in overrides.items() if value is not None})


def _warn_if_fw_config_shadowed(settings) -> None:
    """One line on stderr per FW_config.yaml that FireWorks reads before litcl's."""
    from litcl_flows.store.config import shadowing_fw_configs

    for path in shadowing_fw_configs(settings):
        stderr_console().print(
            f"Warning: FireWorks reads {path} before FW_CONFIG_FILE ({settings.fw_config_file}):"
            " bare lpad/rlaunch/qlaunch will use that one; rename it to use litcl's",
            highlight=False,
            soft_wrap=True,
        )


@click.command()
@click.option("--mode", type=click.Choice(["embedded", "mongodb"]), help="Where state lives.")
@click.option(
    "--host",
    "mongo_host",
    help="MongoDB host or mongodb:// URI; a user:password in it is taken out and the "
    "password never written (as $LITCL_MONGO_PASSWORD).",
)
@click.option("--port", "mongo_port", type=int, help="MongoDB port.")
@click.option("--database", "mongo_database", help="MongoDB database.")
@click.option("--username", "mongo_username", help="MongoDB user; password: $LITCL_MONGO_PASSWORD.")
@click.option("--tls/--no-tls", "mongo_tls", default=None, help="Connect to MongoDB over TLS.")
@click.option(
    "--store-password/--no-store-password",
    default=None,
    help="Write the password (from $LITCL_MONGO_PASSWORD, or asked for) into "
    "my_launchpad.yaml and jobflow.yaml, mode 0600, where litcl, FireWorks, queue jobs and "
    "notebooks all read it (default). --no-store-password: only litcl commands given "
    "$LITCL_MONGO_PASSWORD connect.",
)
@click.option("--cluster", type=click.Choice(["slurm", "pbspro"]), help="Write queue adapters.")
@click.option("--queue", help="Queue (PBS Pro) or partition (Slurm).")
@click.option("--account", help="Allocation to charge.")
@click.option("--walltime", help="Walltime of one queue job, HH:MM:SS.")
@click.option("--nodes", type=int, help="Nodes per queue job.")
@click.option("--cpus-per-node", type=int, help="MPI ranks per node.")
@click.option("--gpus-per-node", type=int, help="GPUs per node (adds a GPU worker).")
@click.option("--filesystems", "pbs_filesystems", help="PBS Pro -l filesystems= value.")
@click.option("--template-file", "queue_template_file", help="Your own FireWorks queue template.")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@one_line_errors
def init(as_json: bool, **options: object) -> None:
    """Create $LITCL_HOME and write the FireWorks and jobflow config files (idempotent).

    Embedded by default. On a cluster: `litcl init --mode mongodb --host H --username U
    --cluster slurm|pbspro --account A --queue Q --walltime 24:00:00 [--gpus-per-node 4]`.
    """
    from litcl_flows.store.config import write_config_files

    settings = _settings(**options)
    if (
        settings.mode == "mongodb"
        and settings.mongo_username
        and settings.mongo_password is None
        and sys.stdin.isatty()
    ):
        password = click.prompt(f"MongoDB password of {settings.mongo_username}", hide_input=True)
        settings = _settings(**options, mongo_password=password)
    report = write_config_files(settings)
    _warn_if_fw_config_shadowed(settings)
    commands = [
        f"export LITCL_HOME={settings.home}",
        f"export FW_CONFIG_FILE={settings.fw_config_file}",
        f"export JOBFLOW_CONFIG_FILE={settings.jobflow_config_file}",
    ]
    if settings.mode == "embedded":
        commands += ["litcl submit workflows/smoke.yaml", "litcl run", "litcl query"]
    else:
        if settings.mongo_username and not settings.store_password:
            commands.insert(0, "export LITCL_MONGO_PASSWORD=...   # never written to disk")
        elif settings.mongo_username:
            commands.insert(0, "unset LITCL_MONGO_PASSWORD   # stored in the 0600 files now")
        commands += [
            "litcl lpad reset      # only once, for a new database",
            "litcl submit workflows/smoke.yaml",
        ]
        if settings.cluster != "none":
            commands.append(
                f"litcl qlaunch -q {settings.qadapter_file} rapidfire -m 10   # CPU jobs"
            )
            if settings.gpus_per_node:
                commands.append(
                    f"litcl qlaunch -q {settings.gpu_qadapter_file} "
                    f"-w {settings.gpu_fworker_file} rapidfire -m 4   # GPU jobs"
                )
        else:
            commands.append("litcl rlaunch rapidfire   # on any machine that reaches MongoDB")
    if as_json:
        print_json(
            {
                "home": str(report.home),
                "mode": settings.mode,
                "files": [str(path) for path in report.written],
                "launchpad_created": report.launchpad_created,
                "next_commands": commands,
            }
        )
        return
    click.echo(f"litcl home: {report.home} ({settings.mode} mode)")
    for path in report.written:
        click.echo(f"  wrote {path}")
    if report.launchpad_created:
        click.echo(f"  created the embedded launchpad {settings.launchpad_db_file}")
    click.echo("\nNext, and for FireWorks' and jobflow's own commands to use the same state:")
    click.echo("\n".join(f"  {command}" for command in commands))
    if settings.mode == "embedded":
        click.echo(
            "\nEmbedded mode serves one process at a time: never run the bare `lpad` or "
            "`rlaunch` beside `litcl run`;\nuse `litcl lpad ...` / `litcl rlaunch ...`, which "
            "take the launchpad lock. Concurrent workers need MongoDB."
        )


@click.command()
@click.argument("spec_file", type=click.Path(dir_okay=False))
@click.option(
    "--replace",
    is_flag=True,
    help="Delete an earlier study of the same name (its workflows and stored outputs) first.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the workflow id as JSON.")
@one_line_errors
def submit(spec_file: str, replace: bool, as_json: bool) -> None:
    """Validate a study spec (YAML) and add its workflow to the launchpad.

    A study name is used once: it keys every stored document, so a second study of the
    same name is refused (rename it, or --replace the first).
    """
    from litcl_flows.flows.preflight import check_runs_here
    from litcl_flows.flows.spec import load_spec
    from litcl_flows.flows.study import build_study_workflow
    from litcl_flows.store.launchpad import add_workflow, find_study, remove_study

    spec = load_spec(spec_file)
    settings = _settings()
    # Embedded workers run here: refuse now rather than fizzle in the first job that needs
    # a missing engine.
    check_runs_here(spec, settings)
    earlier = find_study(settings, spec.name)
    if earlier and not replace:
        raise ValueError(
            f"{earlier} exists already: give the spec a new `name:`, or submit with "
            "--replace to delete the earlier one first"
        )
    # Build the whole workflow before touching the launchpad: an error leaves nothing behind.
    workflow = build_study_workflow(spec)
    if earlier:
        remove_study(settings, earlier)
        stderr_console().print(f"replaced the earlier {earlier}")
    workflow_id = add_workflow(settings, workflow)
    if as_json:
        print_json({"study": spec.name, "workflow_id": workflow_id, "n_jobs": len(workflow.fws)})
    else:
        click.echo(
            f"submitted study {spec.name!r} as workflow {workflow_id} ({len(workflow.fws)} jobs)"
        )


@click.command()
@click.option(
    "--max-jobs",
    type=click.IntRange(min=0),
    default=0,
    help="Stop after this many jobs (0: no limit).",
)
@click.option(
    "--recover",
    is_flag=True,
    help="First rerun jobs whose worker died (FireWorks' detect_lostruns --rerun); "
    "embedded mode always does.",
)
@click.option(
    "--lost-after",
    type=click.IntRange(min=0),
    default=4 * 3600,
    show_default=True,
    help="MongoDB mode, with --recover: seconds without a ping after which a RUNNING job "
    "counts as lost (FireWorks pings hourly).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the jobs run as JSON.")
@one_line_errors
def run(max_jobs: int, recover: bool, lost_after: int, as_json: bool) -> None:
    """Run every READY job in this process, one after another, with progress on stderr.

    Embedded mode: a job left RUNNING by a worker that died is put back to READY first (the
    launchpad lock proves no other worker runs it).
    """
    from litcl_flows.store.launchpad import rerun_lost_runs

    settings = _settings()
    _warn_if_fw_config_shadowed(settings)
    if recover or settings.mode == "embedded":
        lost = rerun_lost_runs(settings, lost_after)
        if recover or lost:
            stderr_console().print(
                f"lost runs (RUNNING, worker gone) put back to READY: {lost or 'none'}"
            )
    events = run_with_progress(settings, max_jobs)
    if as_json:
        print_json([event.__dict__ for event in events])
    failed = [event for event in events if event.state != "COMPLETED"]
    if not events:
        stderr_console().print("no ready jobs")
    if failed:
        ids = ",".join(str(event.fw_id) for event in failed)
        raise click.ClickException(
            f"{len(failed)} job(s) failed; see `litcl lpad get_fws -i {ids} -d all`"
        )


def run_with_progress(settings, max_jobs: int = 0) -> list:
    """Run READY jobs with a spinner and one line per finished job (stderr); return events."""
    import time

    from litcl_flows.store.launchpad import LaunchEvent, run_workers

    console = stderr_console()
    status = console.status("looking for ready jobs")
    status.start()
    began = time.perf_counter()

    def started(fw_id: int, name: str, done: int, total: int) -> None:
        elapsed = time.perf_counter() - began
        status.update(f"[{done + 1}/{total}] running {name} (fw {fw_id}) · {elapsed:.0f} s so far")

    def finished(event: LaunchEvent) -> None:
        mark = "[green]done[/]" if event.state == "COMPLETED" else f"[red]{event.state}[/]"
        console.print(
            f"[{event.done}/{event.total}] {event.name} (fw {event.fw_id}) {mark} "
            f"in {event.seconds:.1f} s"
        )

    try:
        return run_workers(settings, max_jobs, on_start=started, on_finish=finished)
    finally:
        status.stop()


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@one_line_errors
def status(as_json: bool) -> None:
    """Workflows on the launchpad and the states of their jobs."""
    from litcl_flows.store.launchpad import workflow_summaries

    settings = _settings()
    _warn_if_fw_config_shadowed(settings)
    summaries = workflow_summaries(settings)
    rows = [summary.__dict__ for summary in summaries]
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no workflows on the launchpad")
        return
    for row in rows:
        row["fw_states"] = ", ".join(
            f"{count} {state}" for state, count in row["fw_states"].items()
        )
    print_table("workflows", rows)


@click.command()
@click.option("--study", help="Only jobs of this study.")
@click.option("--job", "job_name", help="Only jobs with this name (e.g. relax).")
@click.option(
    "--field",
    "fields",
    multiple=True,
    help="Dotted path to show (repeatable), e.g. output.output.energy.",
)
@click.option(
    "--property",
    "properties",
    multiple=True,
    help="Derived property with its standard error, per U set and temperature (repeatable), "
    "e.g. conductivity_mS_cm, activation_energy_eV.",
)
@click.option("--material", help="Only this material (reduced formula, e.g. Li3TiCl6).")
@click.option(
    "--u",
    "u_set",
    help="Only this U set, as its label U(Ti)=4 or Ti=4 for short (eV; several: Ti=4,V=3).",
)
@click.option(
    "--temperature",
    type=click.FloatRange(min=0.0, min_open=True),
    callback=lambda ctx, param, value: _finite(value, param),
    help="Only this temperature, K (within 0.5 K).",
)
@click.option(
    "--where",
    multiple=True,
    metavar="'PATH OP VALUE'",
    help="Only documents whose value at a dotted path compares so (repeatable, all must "
    "hold); OP one of <, <=, >, >=, ==, !=; VALUE a number or else a string, e.g. "
    "'output.activation_energy_eV<0.3'.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=0),
    default=0,
    help="At most this many documents (0: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@one_line_errors
def query(
    study: str | None,
    job_name: str | None,
    fields: tuple[str, ...],
    properties: tuple[str, ...],
    material: str | None,
    u_set: str | None,
    temperature: float | None,
    where: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    """Stored job outputs: relaxed energies, lattices, any field of any document; with
    --property, the study's transport and Arrhenius numbers with their errors."""
    from litcl_flows.store.query import (
        parse_hubbard_u,
        parse_where,
        property_table,
        query_outputs,
        query_properties,
    )

    if fields and properties:
        raise ValueError("--field and --property do not combine; use one of them")
    for expression in where:
        try:
            parse_where(expression)
        except ValueError as error:
            raise ValueError(f"--where {error}") from error
    filters = {
        "material": material,
        "hubbard_u_eV": parse_hubbard_u(u_set) if u_set else None,
        "temperature_K": temperature,
        "where": list(where),
    }
    if properties:
        records = query_properties(_settings(), list(properties), study, job_name, limit, **filters)
    else:
        records = query_outputs(_settings(), study, job_name, list(fields), limit, **filters)
    absent = [path for path in fields if records and all(path not in r for r in records)]
    if absent:
        raise ValueError(
            f"--field {absent[0]}: in none of the {len(records)} matching documents "
            "(fields are dotted paths from the document root, e.g. output.structure)"
        )
    if as_json:
        print_json(records)
    elif not records:
        click.echo("no stored outputs match")
    elif properties:
        print_table("properties", property_table(records, list(properties)))
    else:
        # One field/value table per document: readable at any terminal width.
        for record in records:
            title = f"{record.get('study')} / {record.get('job')} ({record.get('uuid')})"
            rows = [{"field": k, "value": v} for k, v in record.items() if k != "uuid"]
            print_table(title, rows, ["field", "value"])


def _finite(value: float | None, param: click.Parameter) -> float | None:
    """click's FloatRange lets nan and inf through; a temperature must be a number."""
    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number", param=param)
    return value


_PASSTHROUGH = {"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []}


def _fireworks_command(main: str, args: tuple[str, ...]) -> None:
    from litcl_flows.store.launchpad import run_fireworks_cli

    sys.exit(run_fireworks_cli(_settings(), main, list(args)))


@click.command(context_settings=_PASSTHROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@one_line_errors
def lpad(args: tuple[str, ...]) -> None:
    """FireWorks' `lpad` on litcl's launchpad (embedded: under the launchpad lock)."""
    _fireworks_command("lpad", args)


@click.command(context_settings=_PASSTHROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@one_line_errors
def rlaunch(args: tuple[str, ...]) -> None:
    """FireWorks' `rlaunch` on litcl's launchpad (embedded: locked; `multi` refused)."""
    _fireworks_command("rlaunch", args)


@click.command(context_settings=_PASSTHROUGH)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@one_line_errors
def qlaunch(args: tuple[str, ...]) -> None:
    """FireWorks' `qlaunch` on litcl's launchpad (MongoDB mode; password from the environment)."""
    _fireworks_command("qlaunch", args)
