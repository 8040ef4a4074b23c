"""The embedded launchpad's guards: one writer process, atomic saves, kills lose nothing saved."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import bson.json_util

# A child process that opens the embedded launchpad (as `litcl` does) and adds workflows.
# Argument 1: how many workflows to add and save before printing "saved";
# argument 2: how many to add *without* saving before printing "unsaved" and waiting;
# argument 3: payload size in characters, to make every save take a while;
# argument 4: "wait" to wait for a line on stdin, "resave" to save again and again.
CHILD = """
import sys
from fireworks import Firework, ScriptTask, Workflow
from litcl_flows.settings import load_settings
from litcl_flows.store.embedded import save
from litcl_flows.store.launchpad import open_launchpad

saved, unsaved, payload = (int(arg) for arg in sys.argv[1:4])
then = sys.argv[4]
launchpad = open_launchpad(load_settings())

def add(name):
    firework = Firework(ScriptTask.from_str("true"), spec={"payload": "x" * payload}, name=name)
    launchpad.add_wf(Workflow([firework], name=name))

for i in range(saved):
    add(f"saved-{i}")
    save(launchpad)
    print("saved", i, flush=True)
for i in range(unsaved):
    add(f"unsaved-{i}")
print("unsaved", flush=True)
if then == "wait":
    sys.stdin.readline()
while then == "resave":
    save(launchpad)
"""


def _start_child(
    process_env, saved: int, unsaved: int, payload: int = 10, then: str = "wait"
) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, str(saved), str(unsaved), str(payload), then],
        env=process_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(child: subprocess.Popen, word: str) -> None:
    for line in child.stdout:
        if line.startswith(word):
            return
    raise AssertionError(f"child ended before {word!r}: {child.stderr.read()}")


def test_second_process_fails_at_once_and_first_keeps_its_data(
    litcl_home: Path, litcl, process_env, smoke_spec: Path, workflow_names
) -> None:
    assert litcl("init").returncode == 0
    holder = _start_child(process_env, saved=1, unsaved=0)
    try:
        _wait_for(holder, "unsaved")
        start = time.monotonic()
        second = litcl("submit", str(smoke_spec))
        assert time.monotonic() - start < 60  # it fails, it does not wait for the lock
        assert second.returncode != 0
        message = second.stderr.strip().splitlines()
        assert len(message) == 1, second.stderr
        assert "in use by another process" in message[0]
        assert "concurrent workers need MongoDB" in message[0]
    finally:
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert workflow_names(litcl_home / "launchpad.json") == ["saved-0"]
    # Once the holder has exited the lock is free again.
    assert litcl("submit", str(smoke_spec)).returncode == 0
    assert workflow_names(litcl_home / "launchpad.json") == ["saved-0", "li3ticl6-smoke"]


def test_sigkill_leaves_the_file_as_it_was_before_the_process(
    litcl_home: Path, litcl, process_env, workflow_names
) -> None:
    assert litcl("init").returncode == 0
    before = (litcl_home / "launchpad.json").read_bytes()
    child = _start_child(process_env, saved=0, unsaved=5)
    _wait_for(child, "unsaved")
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    assert (litcl_home / "launchpad.json").read_bytes() == before


def test_sigkill_during_saves_never_leaves_a_torn_file(
    litcl_home: Path, litcl, process_env
) -> None:
    assert litcl("init").returncode == 0
    # Three ~2 MB workflows, then saving over and over: the kill lands in the middle of a
    # multi-megabyte write, which truncates the file with mongomock-persistence's writer.
    child = _start_child(process_env, saved=3, unsaved=0, payload=2_000_000, then="resave")
    _wait_for(child, "unsaved")
    time.sleep(0.5)
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=60)
    database = bson.json_util.loads((litcl_home / "launchpad.json").read_text())
    names = [doc["name"] for _, doc in database["litcl"]["workflows"]["documents"]]
    assert names == ["saved-0", "saved-1", "saved-2"]
    payloads = [doc["spec"]["payload"] for _, doc in database["litcl"]["fireworks"]["documents"]]
    assert [len(payload) for payload in payloads] == [2_000_000] * 3


def test_no_ping_thread_for_an_embedded_launchpad(litcl_home: Path) -> None:
    """FireWorks' last ping races the launch's completion on mongomock (the replaced
    document is empty for an instant: "No Launch exists" printed into the worker's output);
    an embedded launchpad starts no ping thread, a MongoDB one still does."""
    from unittest import mock

    import fireworks.core.rocket as fw_rocket

    from litcl_flows.settings import load_settings
    from litcl_flows.store.launchpad import open_launchpad

    embedded_launchpad = open_launchpad(load_settings())
    assert fw_rocket.start_ping_launch(embedded_launchpad, 1) is None

    server_launchpad = mock.MagicMock()  # a pymongo client has no mongomock store
    server_launchpad.connection._store = None
    stop = fw_rocket.start_ping_launch(server_launchpad, 7)
    assert stop is not None and not stop.is_set()
    stop.set()  # FireWorks' thread pings once more on its way out, as it does after a job
    for _ in range(100):
        if server_launchpad.ping_launch.called:
            break
        time.sleep(0.05)
    server_launchpad.ping_launch.assert_called_with(7)
