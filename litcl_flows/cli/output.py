"""Output shared by the commands: rich tables on a terminal, JSON for scripts, one-line errors."""

from __future__ import annotations

import errno
import functools
import io
import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])

#: Columns of a table printed to a pipe or file (a terminal's own width is used otherwise).
PIPED_WIDTH = 200

#: Errors that are the user's input or environment, shown as one line with a non-zero exit.
USER_ERRORS: tuple[type[Exception], ...] = (ValueError, FileNotFoundError, RuntimeError)

#: ``OSError`` numbers that are the environment's doing (permissions, a read-only or full
#: file system), also shown as one line; any other ``OSError`` keeps its traceback.
ENVIRONMENT_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT})


def one_line_errors(command: F) -> F:
    """Turn expected errors into click's one-line ``Error: ...`` and exit code 1.

    The stores check what they can before they write (a writable home, an undamaged
    launchpad file) and say so in their own words; an environment ``OSError`` that gets past
    them (:data:`ENVIRONMENT_ERRNOS`) still ends in one line naming the file.
    """

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except USER_ERRORS as error:
            raise click.ClickException(str(error).splitlines()[0]) from error
        except OSError as error:
            if error.errno not in ENVIRONMENT_ERRNOS:
                raise
            where = f": {error.filename}" if error.filename else ""
            raise click.ClickException(f"{error.strerror}{where}") from error
        except Exception as error:
            # A server that cannot be reached or refuses the user: pymongo's multi-line
            # topology report becomes one line naming the setting to fix.
            if not type(error).__module__.startswith("pymongo"):
                raise
            from litcl_flows.store.config import mongo_error_line

            raise click.ClickException(mongo_error_line(error)) from error

    return wrapper  # type: ignore[return-value]


def print_json(data: Any) -> None:
    """Print one JSON document on stdout."""
    click.echo(json.dumps(data, indent=2, default=str))


def stderr_console():
    """A rich console on stderr, for progress and notes that scripts should not parse.

    It writes to a duplicate of the current stderr, so that jobs redirecting stderr into
    their launch folder (``litcl run``) do not swallow the progress display.
    """
    from rich.console import Console

    try:
        stream = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    except (AttributeError, OSError, io.UnsupportedOperation):  # no real descriptor
        stream = sys.stderr
    return Console(file=stream)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def print_table(
    title: str, rows: Sequence[dict[str, Any]], columns: Iterable[str] | None = None
) -> None:
    """Print records as a rich table (columns: the union of the records' keys by default)."""
    from rich.console import Console
    from rich.table import Table

    names = list(columns or dict.fromkeys(key for row in rows for key in row))
    table = Table(title=title)
    for name in names:
        table.add_column(name)
    for row in rows:
        table.add_row(*(_cell(row.get(name)) for name in names))
    console = Console(file=sys.stdout)
    if not console.is_terminal:
        # Piped or logged output has no width to fit: rich's 80-column default would wrap
        # every number and header; a wide page keeps one record a line, as on a terminal.
        console.width = PIPED_WIDTH
    console.print(table)
