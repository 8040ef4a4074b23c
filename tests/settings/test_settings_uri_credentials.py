"""A password inside a ``mongodb://`` host URI never reaches a file (issue 20, item 1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from litcl_flows.settings import load_settings

SECRET = "PASS-v9q"


def test_init_with_a_password_in_the_host_uri_treats_it_as_the_password(
    litcl: Callable, litcl_home: Path
) -> None:
    uri = f"mongodb://u:{SECRET}@db.example.org:27017/litcl?authSource=admin"
    result = litcl("init", "--mode", "mongodb", "--host", uri)
    assert result.returncode == 0, result.stderr
    written = [path for path in litcl_home.rglob("*") if path.is_file()]
    assert {path.name for path in written} >= {"litcl.yaml", "jobflow.yaml", "my_launchpad.yaml"}
    for path in written:  # the password's one place: the two 0600 files, as any password
        if SECRET in path.read_text():
            assert path.name in ("jobflow.yaml", "my_launchpad.yaml")
            assert path.stat().st_mode & 0o077 == 0
    persisted = yaml.safe_load((litcl_home / "litcl.yaml").read_text())
    assert persisted["mongo_host"] == "mongodb://db.example.org:27017/litcl?authSource=admin"
    assert persisted["mongo_username"] == "u"
    launchpad = yaml.safe_load((litcl_home / "my_launchpad.yaml").read_text())
    assert launchpad["host"] == persisted["mongo_host"]  # the URI itself holds no secret


def test_with_no_store_password_the_uri_password_is_written_nowhere(
    litcl: Callable, litcl_home: Path
) -> None:
    uri = f"mongodb://u:{SECRET}@db.example.org/"
    result = litcl("init", "--mode", "mongodb", "--host", uri, "--no-store-password")
    assert result.returncode == 0, result.stderr
    for path in litcl_home.rglob("*"):
        if path.is_file():
            assert SECRET not in path.read_text(), path
    assert "export LITCL_MONGO_PASSWORD" in result.stdout


def test_uri_credentials_become_user_and_password(litcl_home: Path) -> None:
    # Percent-encoded as MongoDB URIs require ("@" is %40).
    settings = load_settings(mode="mongodb", mongo_host="mongodb+srv://ana:p%40ss@c0.example.net/")
    assert settings.mongo_host == "mongodb+srv://c0.example.net/"
    assert settings.mongo_username == "ana"
    assert settings.mongo_password is not None
    assert settings.mongo_password.get_secret_value() == "p@ss"
    plain = load_settings(mode="mongodb", mongo_host="mongodb://db.example.org/")
    assert (plain.mongo_host, plain.mongo_username) == ("mongodb://db.example.org/", None)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mongo_username": "bob"}, "the host URI's user 'ana' differs from mongo_username 'bob'"),
        ({"mongo_password": "other"}, "the host URI's password differs from LITCL_MONGO_PASSWORD"),
    ],
)
def test_two_different_credentials_are_refused_in_one_line(
    litcl: Callable, litcl_home: Path, overrides: dict[str, str], message: str
) -> None:
    uri = f"mongodb://ana:{SECRET}@db.example.org/"
    flags = ["--username", overrides["mongo_username"]] if "mongo_username" in overrides else []
    if "mongo_password" in overrides:
        with pytest.raises(ValueError, match=message):
            load_settings(mode="mongodb", mongo_host=uri, **overrides)
        return
    result = litcl("init", "--mode", "mongodb", "--host", uri, *flags)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"Error: settings: {message}; give the user once")
    assert not litcl_home.exists()


@pytest.mark.parametrize("port", ["0", "99999"])
def test_a_port_outside_1_to_65535_is_refused_and_nothing_written(
    litcl: Callable, litcl_home: Path, port: str
) -> None:
    result = litcl("init", "--mode", "mongodb", "--port", port)
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("Error: setting mongo_port: Input should be")
    assert not litcl_home.exists()
