"""Settings precedence: environment over $LITCL_HOME/litcl.yaml over defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from litcl_flows.settings import load_settings


def test_defaults_without_file_or_environment(litcl_home: Path) -> None:
    settings = load_settings()
    assert settings.home == litcl_home
    assert settings.mode == "embedded"
    assert settings.mongo_port == 27017
    assert settings.launchpad_db_file == litcl_home / "launchpad.json"


def test_home_defaults_to_dot_litcl(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LITCL_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert load_settings().home == tmp_path / ".litcl"


def test_environment_beats_yaml_beats_default(
    litcl_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    litcl_home.mkdir()
    (litcl_home / "litcl.yaml").write_text(
        yaml.safe_dump({"mongo_host": "yaml.example.org", "mongo_port": 27018})
    )
    settings = load_settings()
    assert settings.mongo_host == "yaml.example.org"  # file over default
    assert settings.mongo_port == 27018
    monkeypatch.setenv("LITCL_MONGO_HOST", "env.example.org")
    settings = load_settings()
    assert settings.mongo_host == "env.example.org"  # environment over file
    assert settings.mongo_port == 27018  # untouched keys still come from the file
    assert load_settings(mongo_host="flag.example.org").mongo_host == "flag.example.org"


def test_unknown_key_in_yaml_is_an_error(litcl_home: Path) -> None:
    litcl_home.mkdir()
    (litcl_home / "litcl.yaml").write_text("mongo_hots: typo.example.org\n")
    with pytest.raises(ValueError, match="mongo_hots"):
        load_settings()
