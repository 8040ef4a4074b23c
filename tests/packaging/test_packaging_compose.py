"""docker-compose.yml: a MongoDB 7 service with authentication, a volume and a healthcheck."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_compose_file_defines_authenticated_mongo_with_volume_and_healthcheck() -> None:
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    mongo = compose["services"]["mongo"]
    assert re.fullmatch(r"mongo:7(\.\d+)*", mongo["image"])
    env = mongo["environment"]
    # Credentials come from the user's .env, never from the file itself.
    assert env["MONGO_INITDB_ROOT_USERNAME"].startswith("${MONGO_ROOT_USERNAME")
    assert env["MONGO_INITDB_ROOT_PASSWORD"].startswith("${MONGO_ROOT_PASSWORD")
    assert "--auth" in mongo["command"]
    volume, mount = mongo["volumes"][0].split(":")
    assert mount == "/data/db" and volume in compose["volumes"]
    check = mongo["healthcheck"]
    assert check["test"][0] == "CMD" and "ping" in " ".join(check["test"])
    assert {"interval", "timeout", "retries"} <= set(check)


def test_env_example_names_every_variable_the_compose_file_needs() -> None:
    text = (REPO / "docker-compose.yml").read_text()
    needed = set(re.findall(r"\$\{(\w+)", text))
    example = (REPO / ".env.example").read_text()
    defined = {line.split("=")[0] for line in example.splitlines() if "=" in line}
    assert needed <= defined
