"""A damaged or read-only LITCL_HOME: one line naming the file and the fix, nothing written.

Each case is the reproduction a user would type: `litcl init`, `litcl submit`, then the
launchpad file truncated or replaced, a store file overwritten, or the home made read-only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import bson.json_util
import pytest
from click.testing import CliRunner

from litcl_flows.cli.main import cli
from litcl_flows.store import embedded

REPO = Path(__file__).resolve().parents[2]

# Writes one job document (with ~50 kB of numbers, so the sqlite file spans many pages)
# through litcl's own JobStore: a real embedded store file to damage.
STORE_ONE_DOCUMENT = """
from litcl_flows.settings import load_settings
from litcl_flows.store.config import job_store
store = job_store(load_settings())
store.connect()
document = {"uuid": "u-1", "index": 1, "name": "relax", "metadata": {"study": "s"},
            "output": {"energy": -1.0, "numbers": [float(i) for i in range(3000)]}}
store.update(document, key=["uuid", "index"])
store.close()
"""


def _snapshot(home: Path) -> dict[str, bytes]:
    """Every file under ``home`` (launchpad, backup, lock, configs, store) by path."""
    return {
        str(path.relative_to(home)): path.read_bytes()
        for path in sorted(home.rglob("*"))
        if path.is_file()
    }


def _refused(result: subprocess.CompletedProcess, *needles: str) -> str:
    """The one ``Error: ...`` line of a refused command, checked to contain ``needles``."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("Error: "), lines[0]
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def initialised(litcl_home: Path, litcl) -> Path:
    """A home after `litcl init`; its launchpad file."""
    assert litcl("init").returncode == 0
    return litcl_home / "launchpad.json"


@pytest.fixture
def submitted(litcl_home: Path, litcl, smoke_spec: Path) -> Path:
    """A home after `litcl init` and `litcl submit workflows/smoke.yaml`; its launchpad file."""
    assert litcl("init").returncode == 0
    result = litcl("submit", str(smoke_spec))
    assert result.returncode == 0, result.stderr
    return litcl_home / "launchpad.json"


def test_every_save_keeps_the_last_good_copy(submitted: Path) -> None:
    backup = submitted.with_name("launchpad.json.bak")
    names = [doc["name"] for _, doc in _workflows(backup)]
    assert names == ["li3ticl6-smoke"]
    # A copy, not another name for the same file: damaging one leaves the other intact.
    assert not os.path.samestat(os.stat(submitted), os.stat(backup))


def _workflows(db_file: Path) -> list:
    return bson.json_util.loads(db_file.read_text())["litcl"]["workflows"]["documents"]


class _Store:
    """What mongomock-persistence's ServerStore offers the atomic writer."""

    def __init__(self, filename: Path, content: dict) -> None:
        self._filename = str(filename)
        self.content = content

    def to_dict(self) -> dict:
        return self.content


def test_atomic_save_moves_the_previous_file_to_the_backup(tmp_path: Path) -> None:
    db_file = tmp_path / "launchpad.json"
    embedded._atomic_to_file(_Store(db_file, {"first": {}}))
    assert not embedded.backup_file(db_file).exists()  # nothing to keep yet
    embedded._atomic_to_file(_Store(db_file, {"second": {}}))
    assert json.loads(db_file.read_text()) == {"second": {}}
    assert json.loads(embedded.backup_file(db_file).read_text()) == {"first": {}}
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "launchpad.json",
        "launchpad.json.bak",
    ]


def test_truncated_launchpad_is_refused_with_the_restore_command(
    submitted: Path, litcl, smoke_spec: Path
) -> None:
    home = submitted.parent
    backup = home / "launchpad.json.bak"
    os.truncate(submitted, 100)  # `truncate -s 100 launchpad.json`
    before = _snapshot(home)
    restore = f"cp {backup} {submitted}"
    for command in (
        ["status"],
        ["submit", str(smoke_spec)],
        ["run"],
        ["init"],
        ["lpad", "get_wflows"],
    ):
        _refused(litcl(*command), str(submitted), "truncated at byte 100", restore)
        assert _snapshot(home) == before, command
    # What the message says to do works.
    subprocess.run(restore.split(), check=True)
    status = litcl("status", "--json")
    assert status.returncode == 0, status.stderr
    assert [row["name"] for row in json.loads(status.stdout)] == ["li3ticl6-smoke"]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("[1, 2]", "the top level is an array, not an object of databases"),
        ('{"a": 1}', "database 'a' is a number, not an object of collections"),
        ('{"litcl": {"fireworks": {"name": "fireworks"}}}', "has no 'documents' list"),
        ('{"litcl": {"fireworks": {"name": "f", "documents": [1]}}}', "not an [id, document]"),
        ("", "it is empty"),
        ("\x00\x01 garbage", "not valid JSON: Expecting value at line 1 column 1"),
    ],
)
def test_wrong_shaped_launchpad_is_refused_by_status_submit_and_init(
    initialised: Path, litcl, smoke_spec: Path, content: str, problem: str
) -> None:
    home = initialised.parent
    initialised.write_text(content)
    before = _snapshot(home)
    for command in (["status"], ["submit", str(smoke_spec)], ["init"]):
        _refused(litcl(*command), f"embedded launchpad {initialised} is damaged", problem)
        assert _snapshot(home) == before, command


def test_without_a_good_backup_the_message_says_how_to_start_over(initialised: Path, litcl) -> None:
    backup = initialised.with_name("launchpad.json.bak")
    initialised.write_text("[1, 2]")
    backup.write_text("[1, 2]")
    start_over = f"mv {initialised} {initialised}.damaged && litcl init"
    _refused(litcl("status"), f"its backup {backup} is damaged too", start_over)
    backup.unlink()
    _refused(litcl("status"), f"its backup {backup} does not exist", start_over)
    # What the message says to do works: an empty launchpad, the damaged file kept aside.
    initialised.rename(f"{initialised}.damaged")
    assert litcl("init").returncode == 0
    status = litcl("status", "--json")
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout) == []


def _read_only_runner(home: Path, process_env):
    """``litcl ARGS`` unable to write to ``home`` (its files made read-only as with
    `chmod -R a-w`); as root, which ignores file modes, with the capability to override
    them dropped. None where that cannot be arranged."""
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            return None
        prefix = [setpriv, "--bounding-set=-dac_override,-fowner", "--"]
    probe = subprocess.run([*prefix, "test", "-w", str(home)], capture_output=True)
    if probe.returncode == 0 or probe.stderr:
        return None

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*prefix, sys.executable, "-m", "litcl_flows", *args],
            env=process_env(),
            capture_output=True,
            text=True,
            timeout=600,
            cwd=REPO,
        )

    return run


def _set_writable(home: Path, writable: bool) -> None:
    for path in [home, *home.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | 0o200 if writable else mode & ~0o222)


def test_read_only_home_reads_what_it_can_and_refuses_writes_in_one_line(
    submitted: Path, litcl, process_env, smoke_spec: Path
) -> None:
    home = submitted.parent
    assert litcl("query").returncode == 0  # the store exists, as after a first run
    before = _snapshot(home)
    _set_writable(home, False)  # `chmod -R a-w $LITCL_HOME`
    try:
        read_only = _read_only_runner(home, process_env)
        if read_only is None:
            pytest.skip("cannot make the home read-only for this user (root without setpriv)")
        status = read_only("status", "--json")
        assert status.returncode == 0, status.stderr
        assert [row["name"] for row in json.loads(status.stdout)] == ["li3ticl6-smoke"]
        # montydb rewrites its config and sqlite's WAL writes beside the file, even to read.
        _refused(read_only("query"), f"JobStore folder {home / 'store'} is not writable")
        _refused(read_only("submit", str(smoke_spec)), "is not writable")
        for command in (["run"], ["init"], ["lpad", "get_wflows"]):
            _refused(read_only(*command), f"LITCL_HOME {home} is not writable")
        assert _snapshot(home) == before
    finally:
        _set_writable(home, True)


def test_unwritable_home_is_refused_before_anything_is_written(
    litcl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same refusals wherever file modes cannot be tested (as root): access says no."""
    monkeypatch.setattr(embedded, "_is_writable", lambda path: False)
    runner = CliRunner()
    init = runner.invoke(cli, ["init"])
    assert init.exit_code == 1
    assert f"Error: LITCL_HOME {litcl_home} is not writable" in init.output
    assert not litcl_home.exists()
    query = runner.invoke(cli, ["query"])
    assert query.exit_code == 1
    assert f"Error: JobStore folder {litcl_home / 'store'} is not writable" in query.output
    assert not litcl_home.exists()


def _store_file(home: Path) -> Path:
    return home / "store" / "litcl" / "outputs.collection"


def _overwrite(path: Path, offset: int, data: bytes) -> None:
    with open(path, "r+b") as handle:
        handle.seek(offset)
        handle.write(data)


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda path: _overwrite(path, 0, os.urandom(4096)), "not an SQLite database"),
        (lambda path: _overwrite(path, 4096, b"\xff" * 8192), "malformed"),
        (lambda path: path.write_bytes(b""), "it is empty"),
    ],
    ids=["header", "pages", "emptied"],
)
def test_damaged_store_file_is_named_in_one_line(
    litcl_home: Path, litcl, process_env, damage, problem: str
) -> None:
    assert litcl("init").returncode == 0
    subprocess.run(
        [sys.executable, "-c", STORE_ONE_DOCUMENT], env=process_env(), check=True, cwd=REPO
    )
    stored = litcl("query", "--json")
    assert stored.returncode == 0, stored.stderr
    assert [record["uuid"] for record in json.loads(stored.stdout)] == ["u-1"]
    store_file = _store_file(litcl_home)
    damage(store_file)
    before = _snapshot(litcl_home)
    for command in (["query"], ["query", "--property", "conductivity_mS_cm"]):
        _refused(
            litcl(*command),
            f"JobStore file {store_file} is damaged",
            problem,
            f"mv {store_file} {store_file}.damaged",
        )
        assert _snapshot(litcl_home) == before


def test_a_home_that_is_not_a_folder_is_one_line(litcl, process_env, tmp_path: Path) -> None:
    import subprocess
    import sys

    def status(home: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "litcl_flows", "status"],
            env=process_env(LITCL_HOME=home),
            capture_output=True,
            text=True,
            timeout=120,
        )

    regular = tmp_path / "home_is_a_file"
    regular.write_text("x")
    result = status(str(regular))  # click's own check of --home / LITCL_HOME
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--home': Directory '{regular}' is a file."
    )
    assert regular.read_text() == "x"
    device = status(os.devnull)  # not a regular file, so click lets it through
    assert device.returncode == 1
    assert device.stderr == (
        f"Error: LITCL_HOME {os.devnull} is not a folder: point LITCL_HOME at a folder\n"
    )
